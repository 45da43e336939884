"""Refused tokens, scopes and tenants of a service are counted in
`meridian_security_events_total{kind}` on its /metrics (real RS256 tokens, a real app)."""
from __future__ import annotations

import time

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import jsonify

from platform_services.common import jwt_auth, security_events
from platform_services.common.app import create_service_app
from platform_services.common.observability import Metrics

ISSUER, AUDIENCE = "https://auth.test", "meridian-order"
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _token(**claims) -> str:
    now = int(time.time())
    body = {"iss": ISSUER, "aud": AUDIENCE, "sub": "client-1", "iat": now, "exp": now + 300,
            "scope": "orders:read", **claims}
    return jwt.encode(body, KEY, algorithm="RS256", headers={"kid": "k1"})


@pytest.fixture
def client():
    app = create_service_app("order", Metrics("order"), [])
    verifier = jwt_auth.Verifier(lambda token: KEY.public_key(), ISSUER, AUDIENCE)
    jwt_auth.protect(app, verifier, jwt_auth.Policy("orders"), {"acme": 7, "other": 8}.get)

    @app.get("/v1/tenants/<tenant>/orders")
    def orders(tenant: str):
        return jsonify([])
    return app.test_client()


def _counts(client) -> dict[str, float]:
    text = client.get("/metrics", headers={
        "Authorization": f"Bearer {_token(scope='ops:read')}"}).text
    counts = {}
    for line in text.splitlines():
        if line.startswith("meridian_security_events_total{"):
            kind = line.split('kind="', 1)[1].split('"', 1)[0]
            counts[kind] = float(line.rsplit(" ", 1)[1])
    return counts


def test_refusals_are_counted_by_kind_and_passes_are_not(client):
    assert set(_counts(client)) == security_events.KINDS  # exported at 0
    bearer = {"Authorization": f"Bearer {_token(tenant_id=7)}"}
    assert client.get("/v1/tenants/acme/orders", headers=bearer).status_code == 200
    assert client.get("/v1/tenants/acme/orders").status_code == 401
    assert client.get("/v1/tenants/acme/orders", headers={
        "Authorization": "Bearer not.a.token"}).status_code == 401
    assert client.get("/v1/tenants/acme/orders", headers={
        "Authorization": f"Bearer {_token(scope='inventory:read')}"}).status_code == 403
    assert client.get("/v1/tenants/other/orders", headers=bearer).status_code == 404
    assert _counts(client) == {"token_refused": 2, "forbidden": 1, "tenant_refused": 1,
                               "outbound_refused": 0}


def test_only_known_kinds_are_recorded():
    with pytest.raises(ValueError):
        security_events.record(Metrics("order"), "anything-an-attacker-sends")
