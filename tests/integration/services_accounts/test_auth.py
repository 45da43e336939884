"""The auth service against a real OpenBao (Vault API): signing keys in KV v2, PII through
transit, rotation, revocation in Redis, client credentials, API keys, and Vault outages."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import time
import uuid

import hvac
import jwt
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import create_engine, select

from platform_services.auth.api import build
from platform_services.auth.models import users
from platform_services.common.config import ServiceConfig
from platform_services.common.runner import start
from tests.integration.services.servers import TcpProxy
from tests.integration.services.tokens import api, auth_settings
from tests.integration.services_accounts.conftest import REDIS_URL, register

pytestmark = pytest.mark.integration
PASSWORD = "correct horse battery staple"
ADMIN = {"Authorization": "Bearer admin-secret"}


@pytest.fixture
def auth(config, run_service, openbao, redis_client, tenant):
    """An auth service on OpenBao with a key path of its own and a registered tenant."""
    def starter(addr: str = openbao, path: str | None = None, vault_token: str = "root",
                **overrides):
        settings = auth_settings(vault_addr=addr, vault_token=vault_token,
                                 admin_token="admin-secret",
                                 vault_key_path=path or f"meridian/test/{uuid.uuid4().hex}",
                                 rsa_bits=2048, **overrides)
        running = run_service(build(config("auth", redis_url=REDIS_URL), log=False,
                                    settings=settings))
        register(running.url, tenant)
        return running
    return starter


@pytest.fixture(scope="module")
def issued(services_db, run_prefix, openbao):
    """One auth service and a user token shared by the forgery cases (read-only)."""
    settings = auth_settings(vault_addr=openbao, vault_token="root",
                             admin_token="admin-secret",
                             vault_key_path=f"meridian/test/{uuid.uuid4().hex}")
    svc = api.track(start(build(ServiceConfig(service="auth", database_url=services_db,
                                              redis_url=REDIS_URL, redis_prefix=run_prefix,
                                              log_format="text"), log=False,
                                settings=settings)))
    slug = f"s2-forge-{uuid.uuid4().hex[:6]}"
    register(svc.url, (899_000 + os.getpid() % 1000, slug))
    yield svc, _user_token(svc.url, slug), slug
    svc.stop()


def _user_token(url: str, slug: str, email: str = "ana@example.com") -> str:
    created = api.post(f"{url}/v1/tenants/{slug}/users", headers=ADMIN,
                       json={"email": email, "password": PASSWORD}, timeout=10)
    assert created.status_code == 201, created.text
    login = api.post(f"{url}/v1/tenants/{slug}/login",
                     json={"email": email, "password": PASSWORD}, timeout=10)
    assert login.status_code == 200, login.text
    return login.json()["access_token"]


def _verify(url: str, token: str) -> requests.Response:
    return api.get(f"{url}/v1/tokens/verify",
                   headers={"Authorization": f"Bearer {token}"}, timeout=10)


def test_login_token_verifies_and_email_is_transit_encrypted(auth, tenant, services_db,
                                                             openbao):
    svc = auth()
    token = _user_token(svc.url, tenant[1])
    answer = _verify(svc.url, token)
    assert answer.status_code == 200 and answer.json()["claims"]["tenant_id"] == tenant[0]
    engine = create_engine(services_db)
    with engine.connect() as conn:
        stored = conn.scalar(select(users.c.email_ciphertext).where(users.c.tenant_id == tenant[0]))
    engine.dispose()
    assert stored.startswith("vault:v1:") and "ana@example.com" not in stored
    plain = hvac.Client(url=openbao, token="root").secrets.transit.decrypt_data(
        name="meridian-auth-pii", ciphertext=stored)["data"]["plaintext"]
    assert base64.b64decode(plain).decode() == "ana@example.com"
    wrong = api.post(f"{svc.url}/v1/tenants/{tenant[1]}/login",
                     json={"email": "ana@example.com", "password": "x" * 12}, timeout=10)
    assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_credentials"


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _forge(kind: str, svc, token: str) -> str:
    ring = svc.service.app.extensions["key_ring"]
    claims = jwt.decode(token, options={"verify_signature": False})
    kid = jwt.get_unverified_header(token)["kid"]
    if kind == "tampered":
        head, body, sig = token.split(".")
        data = json.loads(base64.urlsafe_b64decode(body + "=="))
        data["tenant_id"] = 1
        forged = base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()
        return f"{head}.{forged}.{sig}"
    if kind == "hs256_with_public_key":
        public = ring.current().private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        # The classic key-confusion forgery, built by hand (PyJWT refuses to make it).
        head = _b64({"alg": "HS256", "typ": "JWT", "kid": kid})
        body = _b64(claims)
        mac = hmac.new(public, f"{head}.{body}".encode(), hashlib.sha256).digest()
        return f"{head}.{body}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"
    if kind == "alg_none":
        return jwt.encode(claims, None, algorithm="none", headers={"kid": kid})
    if kind == "foreign_key_same_kid":
        other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        return jwt.encode(claims, other, algorithm="RS256", headers={"kid": kid})
    if kind == "expired":
        past = {**claims, "iat": int(time.time()) - 3600, "nbf": int(time.time()) - 3600,
                "exp": int(time.time()) - 60}
        return jwt.encode(past, ring.current().private, algorithm="RS256", headers={"kid": kid})
    if kind == "other_audience":
        return jwt.encode({**claims, "aud": "someone-else"}, ring.current().private,
                          algorithm="RS256", headers={"kid": kid})
    return "x" * 9000  # oversized


@pytest.mark.parametrize("kind, reason", [
    ("tampered", "signature does not verify"),
    ("hs256_with_public_key", "algorithm 'HS256' is not accepted"),
    ("alg_none", "algorithm 'none' is not accepted"),
    ("foreign_key_same_kid", "signature does not verify"),
    ("expired", "token expired"),
    ("other_audience", "invalid token"),
    ("oversized", "malformed token"),
])
def test_forged_and_expired_tokens_are_rejected(issued, kind, reason):
    svc, token, _ = issued
    assert _verify(svc.url, token).status_code == 200
    answer = _verify(svc.url, _forge(kind, svc, token))
    assert answer.status_code == 401
    assert answer.json()["error"] == "invalid_token" and reason in answer.json()["message"]


def test_rotation_keeps_tokens_of_the_previous_key_valid(auth, tenant):
    svc = auth()
    old = _user_token(svc.url, tenant[1])
    old_kid = jwt.get_unverified_header(old)["kid"]
    refused = api.post(f"{svc.url}/v1/keys/rotate", timeout=30,
                       headers={"Authorization": "Bearer wrong"})
    assert refused.status_code == 403
    rotated = api.post(f"{svc.url}/v1/keys/rotate", timeout=30,
                       headers={"Authorization": "Bearer admin-secret"})
    assert rotated.status_code == 200, rotated.text
    new_kid = rotated.json()["kid"]
    jwks = api.get(f"{svc.url}/.well-known/jwks.json", timeout=5).json()["keys"]
    assert [k["kid"] for k in jwks] == [new_kid, old_kid]
    assert all(k["kty"] == "RSA" and k["alg"] == "RS256" and "d" not in k for k in jwks)
    assert _verify(svc.url, old).status_code == 200
    login = api.post(f"{svc.url}/v1/tenants/{tenant[1]}/login", timeout=10,
                     json={"email": "ana@example.com", "password": PASSWORD})
    assert jwt.get_unverified_header(login.json()["access_token"])["kid"] == new_kid


def test_a_second_replica_verifies_tokens_signed_after_a_rotation(auth, tenant):
    path = f"meridian/test/{uuid.uuid4().hex}"
    first, second = auth(path=path), auth(path=path)
    _user_token(first.url, tenant[1])
    api.post(f"{first.url}/v1/keys/rotate", timeout=30,
             headers={"Authorization": "Bearer admin-secret"}).raise_for_status()
    login = api.post(f"{first.url}/v1/tenants/{tenant[1]}/login", timeout=10,
                     json={"email": "ana@example.com", "password": PASSWORD})
    assert _verify(second.url, login.json()["access_token"]).status_code == 200


def test_revoked_token_is_refused_for_its_remaining_lifetime(auth, tenant, redis_client,
                                                             run_prefix):
    svc = auth(token_ttl=120)
    token = _user_token(svc.url, tenant[1])
    revoked = api.post(f"{svc.url}/oauth/revoke", data={"token": token}, timeout=10)
    assert revoked.json()["revoked"] is True
    answer = _verify(svc.url, token)
    assert answer.status_code == 401 and answer.json()["message"] == "token revoked"
    ttl = redis_client.ttl(f"{run_prefix}auth:revoked:{revoked.json()['jti']}")
    assert 0 < ttl <= 120


def test_client_credentials_grant(auth, tenant):
    svc = auth()
    client = api.post(f"{svc.url}/v1/tenants/{tenant[1]}/oauth-clients", timeout=10,
                      headers=ADMIN,
                      json={"name": "fulfillment", "scopes": ["orders:read", "labels:write"]})
    assert client.status_code == 201
    cid, secret = client.json()["client_id"], client.json()["client_secret"]
    granted = api.post(f"{svc.url}/oauth/token", auth=(cid, secret), timeout=10,
                       data={"grant_type": "client_credentials", "scope": "orders:read"})
    assert granted.status_code == 200 and granted.json()["token_type"] == "Bearer"
    claims = _verify(svc.url, granted.json()["access_token"]).json()["claims"]
    assert claims["sub"] == cid and claims["scope"] == "orders:read"
    cases = [((cid, "wrong"), {"grant_type": "client_credentials"}, 401, "invalid_client"),
             ((cid, secret), {"grant_type": "password"}, 400, "unsupported_grant_type"),
             ((cid, secret), {"grant_type": "client_credentials", "scope": "admin"}, 400,
              "invalid_scope")]
    for basic, form, status, error in cases:
        answer = api.post(f"{svc.url}/oauth/token", auth=basic, data=form, timeout=10)
        assert (answer.status_code, answer.json()["error"]) == (status, error)


def test_api_key_lifecycle(auth, tenant):
    svc = auth()
    created = api.post(f"{svc.url}/v1/tenants/{tenant[1]}/api-keys", timeout=10,
                       headers=ADMIN,
                       json={"name": "storefront", "scopes": ["search:read"]})
    assert created.status_code == 201
    key = created.json()["key"]
    check = api.get(f"{svc.url}/v1/api-keys/verify", headers={"X-API-Key": key}, timeout=5)
    assert check.status_code == 200 and check.json()["tenant_id"] == tenant[0]
    api.post(f"{svc.url}/v1/tenants/{tenant[1]}/api-keys/{created.json()['id']}/revoke",
             headers=ADMIN, timeout=5).raise_for_status()
    check = api.get(f"{svc.url}/v1/api-keys/verify", headers={"X-API-Key": key}, timeout=5)
    assert check.status_code == 401


def test_vault_outage_keeps_verifying_and_rotation_fails_loudly(auth, tenant, openbao):
    proxy = TcpProxy(int(openbao.rsplit(":", 1)[1]))
    try:
        svc = auth(addr=f"http://127.0.0.1:{proxy.port}", key_refresh_seconds=0.0)
        token = _user_token(svc.url, tenant[1])
        proxy.down()
        assert _verify(svc.url, token).status_code == 200
        login = api.post(f"{svc.url}/v1/tenants/{tenant[1]}/login", timeout=10,
                         json={"email": "ana@example.com", "password": PASSWORD})
        assert login.status_code == 200
        rotated = api.post(f"{svc.url}/v1/keys/rotate", timeout=30,
                           headers={"Authorization": "Bearer admin-secret"})
        assert rotated.status_code == 503 and rotated.json()["error"] == "rotation_failed"
        assert "Vault at http://127.0.0.1" in rotated.json()["message"]
        new_user = api.post(f"{svc.url}/v1/tenants/{tenant[1]}/users", timeout=10,
                            headers=ADMIN,
                            json={"email": "bo@example.com", "password": PASSWORD})
        assert new_user.status_code == 503 and new_user.json()["error"] == "vault_unavailable"
        ready = api.get(f"{svc.url}/readyz", timeout=10).json()
        assert ready["status"] == "degraded" and "vault" in ready["failed"]
        proxy.up()
        rotated = api.post(f"{svc.url}/v1/keys/rotate", timeout=30,
                           headers={"Authorization": "Bearer admin-secret"})
        assert rotated.status_code == 200
        assert _verify(svc.url, token).status_code == 200
    finally:
        proxy.close()


@pytest.mark.parametrize("body, status, field", [
    ({"email": "not-an-address", "password": PASSWORD}, 422, "email"),
    ({"email": "c@example.com", "password": "short"}, 422, "password"),
])
def test_bad_user_input_is_a_clear_422(auth, tenant, body, status, field):
    svc = auth()
    answer = api.post(f"{svc.url}/v1/tenants/{tenant[1]}/users", json=body, timeout=10,
                      headers=ADMIN)
    assert answer.status_code == status and field in answer.json()["fields"]


@pytest.mark.parametrize("path, body", [
    ("users", {"email": "d@example.com", "password": PASSWORD}),
    ("api-keys", {"name": "k", "scopes": []}),
    ("oauth-clients", {"name": "c", "scopes": []}),
    ("api-keys/00000000-0000-0000-0000-000000000000/revoke", {}),
])
@pytest.mark.parametrize("headers, status", [
    ({}, 401), ({"Authorization": "Bearer not-the-admin"}, 403), ({"Authorization": "Basic x"}, 401),
], ids=["anonymous", "wrong-token", "not-bearer"])
def test_credential_management_needs_the_admin_token(issued, path, body, headers, status):
    svc, _, slug = issued
    # Plain requests: exactly the credentials of the case, no platform token added.
    answer = requests.post(f"{svc.url}/v1/tenants/{slug}/{path}", json=body, headers=headers,
                           timeout=10)
    assert answer.status_code == status


def test_an_expired_vault_token_blocks_rotation_loudly_but_not_verification(auth, tenant,
                                                                            openbao):
    """Vault token expiry blocks key rotation. A token of its own, revoked
    mid-way, is what an expired token looks like to Vault (403 permission denied)."""
    root = hvac.Client(url=openbao, token="root")
    own = root.auth.token.create(policies=["root"], ttl="1h")["auth"]["client_token"]
    svc = auth(vault_token=own)
    token = _user_token(svc.url, tenant[1])
    root.auth.token.revoke(own)
    rotated = api.post(f"{svc.url}/v1/keys/rotate", headers=ADMIN, timeout=30)
    assert rotated.status_code == 503 and rotated.json()["error"] == "rotation_failed"
    assert "Forbidden" in rotated.json()["message"]
    assert _verify(svc.url, token).status_code == 200
    ready = api.get(f"{svc.url}/readyz", timeout=10).json()
    assert "vault" in ready["failed"]
