"""The edge (infra/nginx/nginx.conf.template) with a real nginx in front of a real auth
service and order service: tokens are checked at the edge (a refused request never
reaches the service), the service still checks tenants behind it, each tenant has its
own rate limit, bodies are bounded, HTTPS terminates at the edge."""
from __future__ import annotations

import itertools
import json
import secrets
import subprocess
from pathlib import Path

import pytest
import requests
from sqlalchemy import create_engine

from platform_services.auth import service as auth_service
from platform_services.auth import tokens as auth_tokens
from platform_services.common.runner import start
from platform_services.common.service_tokens import ClientCredentials
from platform_services.registry import build
from portal import dev_edge
from tests.integration.services import servers, tokens
from tests.integration.services.tokens import api
from tests.servers import wait_until

NGINX = dev_edge.binary()
pytestmark = [pytest.mark.integration,
              pytest.mark.skipif(NGINX is None, reason="nginx is not installed "
                                 "(scripts/bootstrap.sh installs the Debian package)")]
_ids = itertools.count(1)


class CountingApp:
    """WSGI middleware counting the requests that reach the service behind the edge."""

    def __init__(self, app) -> None:
        self.app, self.count = app, 0

    def __call__(self, environ, start_response):
        self.count += 1
        return self.app(environ, start_response)


@pytest.fixture(scope="module")
def backend(services_db, run_prefix, broker, platform_auth):
    """The order service trusting `platform_auth`, tenants A and B registered with both,
    each with an OAuth client holding the orders scopes."""
    make = servers.config_factory(services_db, run_prefix,
                                  **tokens.service_credentials(platform_auth.url))
    order = api.track(start(build(make("order"), log=False)))
    api.track(platform_auth)
    counter = CountingApp(order.service.app.wsgi_app)
    order.service.app.wsgi_app = counter
    n = next(_ids)
    tenants = {"a": (781_000 + n, f"edge-a-{n}-{secrets.token_hex(2)}"),
               "b": (782_000 + n, f"edge-b-{n}-{secrets.token_hex(2)}")}
    for svc in (order, platform_auth):
        for tid, slug in tenants.values():
            answer = api.put(f"{svc.url}/v1/tenants/{slug}", json={"id": tid}, timeout=10)
            assert answer.status_code == 200, answer.text
    engine = create_engine(services_db)
    with engine.begin() as conn:
        clients = {key: auth_service.create_client(conn, tenant_id=tid, name=f"edge {key}",
                                                   scopes=["orders:read", "orders:write"])
                   for key, (tid, _) in tenants.items()}
    engine.dispose()
    yield {"order": order, "auth": platform_auth, "tenants": tenants, "clients": clients,
           "counter": counter}
    order.stop()


def _spec(prefix: Path, backend, **limits) -> dev_edge.EdgeSpec:
    return dev_edge.EdgeSpec(
        prefix=prefix, listen=f"127.0.0.1:{servers.free_port()}",
        auth_upstream=backend["auth"].url.removeprefix("http://"),
        upstreams={"order": backend["order"].url.removeprefix("http://")}, **limits)


@pytest.fixture
def edge(tmp_path, backend):
    """Start an edge (limits as keyword arguments) in front of `backend`."""
    started = []

    def starter(**limits) -> dev_edge.Edge:
        running = dev_edge.start(_spec(tmp_path / f"edge{len(started)}", backend, **limits))
        started.append(running)
        return running
    yield starter
    for running in started:
        running.stop()


def _token(edge: dev_edge.Edge, backend, tenant: str) -> str:
    """Tenant `tenant`'s order token, fetched through the edge's unauthenticated route."""
    client = backend["clients"][tenant]
    return ClientCredentials(edge.service_url("auth"), client["client_id"],
                             client["client_secret"]).token("meridian-order")


def _orders(edge: dev_edge.Edge, backend, tenant: str, token: str | None,
            **kwargs) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    slug = backend["tenants"][tenant][1]
    return requests.get(f"{edge.service_url('order')}/v1/tenants/{slug}/orders",
                        headers=headers, timeout=10, **kwargs)


def _access_log(edge: dev_edge.Edge) -> list[dict]:
    return [json.loads(line) for line in
            (edge.spec.prefix / "access.log").read_text().splitlines()]


def test_the_rendered_configuration_passes_nginx_t(tmp_path, backend):
    spec = _spec(tmp_path, backend)
    checked = dev_edge.check(NGINX, dev_edge.write_config(spec), tmp_path)
    assert checked.returncode == 0, checked.stderr
    broken = tmp_path / "broken.conf"
    broken.write_text(dev_edge.render(spec).replace("limit_req_zone", "limit_req_zon"))
    assert dev_edge.check(NGINX, broken, tmp_path).returncode != 0


def test_a_valid_token_passes_and_the_check_is_cached(edge, backend):
    running = edge()
    token = _token(running, backend, "a")
    before = backend["counter"].count
    for _ in range(2):
        answer = _orders(running, backend, "a", token)
        assert answer.status_code == 200, answer.text
        assert answer.headers["X-Request-Id"]
        assert answer.headers["Server"] == "nginx"  # server_tokens off: no version
    assert backend["counter"].count == before + 2
    # nginx writes a request's log line after the response has gone out: wait for both.
    wait_until(lambda: len([ln for ln in _access_log(running) if "/orders" in ln["uri"]]) >= 2,
               timeout=10, what="both access log lines")
    lines = [line for line in _access_log(running) if "/orders" in line["uri"]]
    assert [line["auth_cache"] for line in lines] == ["MISS", "HIT"]
    assert {line["tenant"] for line in lines} == {str(backend["tenants"]["a"][0])}
    assert all(len(line["request_id"]) == 32 for line in lines)


def test_missing_garbage_expired_and_wrong_audience_tokens_stop_at_the_edge(edge, backend):
    running = edge()
    ring = backend["auth"].service.app.extensions["key_ring"]
    tid = backend["tenants"]["a"][0]
    settings = tokens.auth_settings()
    expired, _ = auth_tokens.issue(ring, settings, subject="edge-test", tenant_id=tid,
                                   scopes=["orders:read"], kind="client", ttl=-60,
                                   audience="meridian-order")
    other_service, _ = auth_tokens.issue(ring, settings, subject="edge-test", tenant_id=tid,
                                         scopes=["orders:read"], kind="client",
                                         audience="meridian-inventory")
    before = backend["counter"].count
    for token in (None, "garbage", expired, other_service):
        answer = _orders(running, backend, "a", token)
        assert answer.status_code == 401, (token, answer.text)
        challenges = answer.raw.headers.getlist("WWW-Authenticate")
        assert len(challenges) == 1 and challenges[0].startswith('Bearer realm="meridian"')
        assert answer.json()["error"] == "invalid_token"
    assert "token expired" in _orders(running, backend, "a", expired) \
        .headers["WWW-Authenticate"]
    assert backend["counter"].count == before


def test_the_service_still_refuses_another_tenants_path(edge, backend):
    running = edge()
    answer = _orders(running, backend, "b", _token(running, backend, "a"))
    assert answer.status_code == 404
    assert answer.json()["error"] == "unknown_tenant"


def test_each_tenant_has_its_own_rate_limit(edge, backend):
    running = edge(rate=1, burst=2)
    token_a, token_b = _token(running, backend, "a"), _token(running, backend, "b")
    statuses = [_orders(running, backend, "a", token_a) for _ in range(6)]
    assert [s.status_code for s in statuses[:3]] == [200, 200, 200]
    limited = [s for s in statuses if s.status_code == 429]
    assert limited, [s.status_code for s in statuses]
    assert limited[0].headers["Retry-After"] == "1"
    assert limited[0].json()["error"] == "rate_limited"
    assert _orders(running, backend, "b", token_b).status_code == 200


def test_a_body_over_the_limit_is_413(edge, backend):
    running = edge(max_body_size="1k")
    slug = backend["tenants"]["a"][1]
    answer = requests.post(f"{running.service_url('order')}/v1/tenants/{slug}/orders",
                           data=b"x" * 4096, timeout=10, headers={
                               "Authorization": f"Bearer {_token(running, backend, 'a')}",
                               "Content-Type": "application/json"})
    assert answer.status_code == 413
    assert answer.json()["error"] == "payload_too_large"


def test_https_terminates_at_the_edge(edge, backend, tmp_path):
    cert, key = tmp_path / "edge.crt", tmp_path / "edge.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    port = servers.free_port()
    running = edge(tls=dev_edge.Tls(f"127.0.0.1:{port}", cert, key))
    slug = backend["tenants"]["a"][1]
    url = f"https://127.0.0.1:{port}/order/v1/tenants/{slug}/orders"
    token = _token(running, backend, "a")
    answer = requests.get(url, headers={"Authorization": f"Bearer {token}"}, verify=str(cert),
                          timeout=10)
    assert answer.status_code == 200, answer.text
    assert requests.get(url, verify=str(cert), timeout=10).status_code == 401
    wait_until(lambda: any(line["tls"].startswith("TLSv1.") for line in _access_log(running)),
               timeout=10, what="a TLS access log line")


def test_the_verify_endpoint_names_the_caller_and_refuses_a_malformed_audience(edge, backend):
    running = edge()
    url = f"{backend['auth'].url}/v1/tokens/verify"
    headers = {"Authorization": f"Bearer {_token(running, backend, 'a')}"}
    answer = requests.get(url, params={"audience": "meridian-order"}, headers=headers,
                          timeout=10)
    assert answer.status_code == 200
    assert answer.headers["X-Token-Tenant"] == str(backend["tenants"]["a"][0])
    assert answer.headers["X-Token-Subject"] == backend["clients"]["a"]["client_id"]
    for audience in ("meridian-\x00order", "x" * 5000, "Meridian-Order"):
        refused = requests.get(url, params={"audience": audience}, headers=headers, timeout=10)
        assert refused.status_code == 400, audience
