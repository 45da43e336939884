"""Zero trust across all eight services: every route of every service (each Flask app's
url_map, enumerated, so a new route is covered the day it is added) is called with no
token, a garbage token, a token of another tenant and a token for another service; none
of them gets a 2xx. The right token is let through."""
from __future__ import annotations

import itertools
import secrets
import time

import pytest
from sqlalchemy import create_engine

from platform_services.auth import service as auth_service
from platform_services.auth.api import build as build_auth
from platform_services.common.jwt_auth import UNKNOWN_KID_COOLDOWN_SECONDS, audience_of
from platform_services.common.runner import start
from platform_services.common.service_tokens import ClientCredentials
from platform_services.registry import build
from tests.integration.services import servers, tokens
from tests.integration.services.tokens import api

pytestmark = pytest.mark.integration
SERVICES = ("order", "inventory", "fulfillment", "worker", "billing", "notification",
            "search")
# Public by design, each for a stated reason: liveness (nothing but "the process serves"),
# the public keys themselves, and RFC 7009 revocation (answers 200 for any token).
PUBLIC = {"healthz", "oauth.jwks", "oauth.revoke"}
METHODS = ("GET", "POST", "PUT", "DELETE", "PATCH")
PLACEHOLDER = "00000000-0000-4000-8000-000000000001"
TENANT_SCOPES = sorted(s for s in tokens.ALL_SCOPES if s.endswith((":read", ":write"))
                       and s != "ops:read")
_ids = itertools.count(1)


@pytest.fixture(scope="module")
def fleet(services_db, run_prefix, broker, platform_auth):
    """All eight services (auth with the test platform client) and two tenants, A and B,
    registered everywhere; B has an OAuth client with every tenant scope."""
    make = servers.config_factory(services_db, run_prefix,
                                  **tokens.service_credentials(platform_auth.url))
    running = {name: api.track(start(build(make(name), log=False))) for name in SERVICES}
    running["auth"] = api.track(start(build_auth(make("auth"), log=False,
                                                 settings=tokens.auth_settings())))
    n = next(_ids)
    a = (760_000 + n, f"zt-a-{n}-{secrets.token_hex(2)}")
    b = (770_000 + n, f"zt-b-{n}-{secrets.token_hex(2)}")
    for svc in [*running.values(), platform_auth]:
        if svc is platform_auth:
            api.track(svc)
        for tid, slug in (a, b):
            if "tenants.put_tenant" in svc.service.app.view_functions:
                answer = api.put(f"{svc.url}/v1/tenants/{slug}", json={"id": tid},
                                 timeout=10)
                assert answer.status_code == 200, answer.text
    engine = create_engine(services_db)
    with engine.begin() as conn:
        client = auth_service.create_client(conn, tenant_id=b[0], name="tenant b",
                                            scopes=TENANT_SCOPES)
    engine.dispose()
    yield running, a, b, client
    for svc in running.values():
        svc.stop()



def _tenant_token(fleet, name: str) -> str:
    """A token of tenant B's client for service `name` (from the auth it trusts)."""
    running, _, _, client = fleet
    auth_url = running["auth"].url if name == "auth" else \
        running[name].service.app.extensions["auth_url"]
    return ClientCredentials(auth_url, client["client_id"], client["client_secret"]) \
        .token(audience_of(name))


def _routes(app, slug: str):
    """(endpoint, method, path) of every rule of `app`, tenant parts naming `slug`."""
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        values = {arg: slug if arg == "tenant" else
                  f"zt-new-{secrets.token_hex(3)}" if arg == "slug" else
                  "confirm" if arg == "action" else PLACEHOLDER
                  for arg in rule.arguments}
        path = rule.build(values, append_unknown=False)[1]
        for method in sorted(rule.methods & set(METHODS)):
            yield rule.endpoint, method, path


def _call(method: str, url: str, authorization: str | None):
    headers = {"Authorization": authorization} if authorization else {}
    # `auth=` stops the session adding its own token: these calls carry what they carry.
    return api.request(method, url, json={}, headers=headers, timeout=10,
                       auth=lambda r: r)


def _other_service(name: str) -> str:
    return "inventory" if name == "order" else "order"


@pytest.mark.parametrize("name", [*SERVICES, "auth"])
def test_no_route_answers_2xx_without_the_right_token(fleet, name):
    running, a, _, _ = fleet
    svc = running[name]
    platform = tokens.credentials(svc.url if name == "auth" else svc.service.app
                                  .extensions["auth_url"])
    wrong_audience = platform.token(audience_of(_other_service(name)))
    other_tenant = _tenant_token(fleet, name)
    attempts = {"none": None, "garbage": "Bearer not.a.jwt",
                "other tenant": f"Bearer {other_tenant}",
                "wrong audience": f"Bearer {wrong_audience}"}
    leaks, checked = [], 0
    for endpoint, method, path in _routes(svc.service.app, a[1]):
        if endpoint in PUBLIC:
            continue
        for what, header in attempts.items():
            answer = _call(method, svc.url + path, header)
            checked += 1
            if answer.status_code < 300 or answer.status_code >= 500:
                leaks.append((what, method, path, answer.status_code))
    assert checked >= 4 and leaks == []


@pytest.mark.parametrize("name", SERVICES)
def test_the_right_token_gets_through_every_route(fleet, name):
    running, a, _, _ = fleet
    svc = running[name]
    refused = []
    for endpoint, method, path in _routes(svc.service.app, a[1]):
        if endpoint in PUBLIC or endpoint == "stripe_webhooks.receive":
            continue
        answer = api.request(method, svc.url + path, json={}, timeout=10)
        if answer.status_code in (401, 403) or answer.status_code >= 500:
            refused.append((method, path, answer.status_code, answer.text[:200]))
    assert refused == []


@pytest.mark.parametrize("name, path", [
    ("order", "/v1/tenants/{tenant}/orders"), ("inventory", "/v1/tenants/{tenant}/stock"),
    ("billing", "/v1/tenants/{tenant}/invoices"),
    ("notification", "/v1/tenants/{tenant}/notifications"),
    ("search", "/v1/tenants/{tenant}/search?q=anything"),
])
def test_a_tenant_token_reads_its_own_tenant_only(fleet, name, path):
    running, a, b, _ = fleet
    token = f"Bearer {_tenant_token(fleet, name)}"
    url = running[name].url
    for ref in (b[1], str(b[0])):
        assert _call("GET", url + path.format(tenant=ref), token).status_code == 200
    for ref in (a[1], str(a[0])):
        answer = _call("GET", url + path.format(tenant=ref), token)
        assert answer.status_code == 404 and answer.json()["error"] == "unknown_tenant"


def test_refusals_say_why_in_a_bearer_challenge(fleet):
    running, a, b, _ = fleet
    url = f"{running['order'].url}/v1/tenants/{b[1]}/orders"
    missing = _call("GET", url, None)
    assert missing.status_code == 401 and missing.headers["WWW-Authenticate"].startswith(
        "Bearer")
    garbage = _call("GET", url, "Bearer not.a.jwt")
    assert garbage.status_code == 401 and 'error="invalid_token"' in \
        garbage.headers["WWW-Authenticate"]
    tenant = f"Bearer {_tenant_token(fleet, 'order')}"
    # A tenant's token never manages the registry, nor reads the operators' endpoints.
    for method, path in (("PUT", f"/v1/tenants/{b[1]}"), ("GET", "/metrics"),
                         ("GET", "/readyz")):
        answer = _call(method, running["order"].url + path, tenant)
        assert answer.status_code == 403, (path, answer.text)
        assert 'error="insufficient_scope"' in answer.headers["WWW-Authenticate"]


def test_a_missing_scope_is_403(fleet, services_db):
    running, _, b, _ = fleet
    engine = create_engine(services_db)
    with engine.begin() as conn:
        reader = auth_service.create_client(conn, tenant_id=b[0], name="reader",
                                            scopes=["orders:read"])
    engine.dispose()
    token = ClientCredentials(running["order"].service.app.extensions["auth_url"],
                              reader["client_id"], reader["client_secret"]) \
        .token(audience_of("order"))
    url = f"{running['order'].url}/v1/tenants/{b[1]}/orders"
    assert _call("GET", url, f"Bearer {token}").status_code == 200
    refused = api.post(url, json={"lines": [{"sku": "A", "quantity": 1}]},
                       headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert refused.status_code == 403 and refused.json()["error"] == "insufficient_scope"


def test_billing_usage_ingestion_needs_the_admin_scope(fleet):
    running, _, b, _ = fleet
    url = f"{running['billing'].url}/v1/tenants/{b[1]}/usage"
    body = {"meter": "api_calls", "quantity": 1_000_000}
    tenant = f"Bearer {_tenant_token(fleet, 'billing')}"
    answer = api.post(url, json=body, headers={"Authorization": tenant}, timeout=10)
    assert answer.status_code == 403
    assert api.post(url, json=body, timeout=10).status_code == 202  # the platform may


def test_a_rotated_signing_key_is_honoured_at_once(fleet, platform_auth):
    """A token signed with a key the service has not fetched yet (a rotation since the
    JWKS was cached) verifies: the unknown kid refetches the JWKS."""
    running, _, b, _ = fleet
    url = f"{running['order'].url}/v1/tenants/{b[1]}/orders"
    assert api.get(url, timeout=10).status_code == 200  # the JWKS is cached now
    platform_auth.service.app.extensions["key_ring"].rotate()
    time.sleep(UNKNOWN_KID_COOLDOWN_SECONDS + 0.1)
    fresh = tokens.credentials(platform_auth.url).token(audience_of("order"))
    assert _call("GET", url, f"Bearer {fresh}").status_code == 200
