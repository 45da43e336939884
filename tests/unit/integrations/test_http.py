"""portal.integrations.http and the clients built on it, against a real local HTTP server
that fails the first requests (a 5xx answer, or a connection dropped before any answer)
and then answers."""
from __future__ import annotations

from dataclasses import dataclass, field

import pytest
import requests

from portal.integrations import services
from portal.integrations.alertmanager import (
    AlertmanagerClient,
    AlertmanagerUnavailable,
    Matcher,
    NewSilence,
    parse_time,
)
from portal.integrations.argocd import ArgoCDClient
from portal.integrations.billing import BillingClient, BillingUnavailable
from portal.integrations.http import IDEMPOTENT, retrying_session
from portal.integrations.prometheus import PrometheusClient, PrometheusUnavailable
from tests.httpserver import LocalHTTPServer, QuietHandler

ARGO_APP = {"metadata": {"name": "order-prod"},
            "status": {"sync": {"status": "Synced", "revision": "abc"},
                       "health": {"status": "Healthy"}}}


@dataclass
class Flaky:
    """Fails the first `failures` requests (`how`: an HTTP status, or "drop" to close the
    connection without answering), then answers `body` with 200."""
    failures: int = 2
    how: int | str = 503
    body: dict | list = field(default_factory=lambda: {"ok": True})
    headers: dict = field(default_factory=dict)
    seen: list = field(default_factory=list)
    url: str = ""


@pytest.fixture
def flaky():
    state = Flaky()

    class Handler(QuietHandler):
        def _answer(self):
            state.seen.append((self.command, self.path.split("?")[0]))
            self.json_body()  # read the body so the connection stays usable
            if len(state.seen) > state.failures:
                return self.reply(200, state.body)
            if state.how == "drop":
                self.close_connection = True  # no status line: the client sees a reset
                return None
            self.send_response(state.how)
            for name, value in state.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return None

        do_GET = do_POST = do_DELETE = _answer

    with LocalHTTPServer(Handler) as server:
        state.url = server.url
        yield state


def test_a_get_is_retried_until_the_server_answers(flaky):
    http = retrying_session(retries=2, backoff=0)
    response = http.get(flaky.url + "/x", timeout=5)
    assert response.status_code == 200 and response.json() == {"ok": True}
    assert flaky.seen == [("GET", "/x")] * 3


def test_when_the_retries_run_out_the_last_answer_is_returned(flaky):
    response = retrying_session(retries=1, backoff=0).get(flaky.url + "/x", timeout=5)
    assert response.status_code == 503
    assert len(flaky.seen) == 2


@pytest.mark.parametrize("how", [503, "drop"])
def test_a_post_is_not_retried_unless_the_client_allows_it(flaky, how):
    flaky.how = how
    plain = retrying_session(retries=2, backoff=0)
    if how == "drop":
        with pytest.raises(requests.ConnectionError):
            plain.post(flaky.url + "/x", json={}, timeout=5)
    else:
        assert plain.post(flaky.url + "/x", json={}, timeout=5).status_code == 503
    assert flaky.seen == [("POST", "/x")]
    allowed = retrying_session(retries=2, backoff=0, methods=IDEMPOTENT | {"POST"})
    assert allowed.post(flaky.url + "/x", json={}, timeout=5).status_code == 200


def test_dropped_connections_are_retried_for_a_get(flaky):
    flaky.how = "drop"
    assert retrying_session(retries=2, backoff=0).get(flaky.url + "/x", timeout=5).ok
    assert len(flaky.seen) == 3


@pytest.mark.parametrize("status, headers", [(500, {}), (404, {}),
                                             (429, {"Retry-After": "0"})])
def test_other_answers_are_not_retried(flaky, status, headers):
    """A 500 or a 4xx is not transient, and Retry-After does not buy a retry either."""
    flaky.how, flaky.headers = status, headers
    assert retrying_session(retries=2, backoff=0).get(flaky.url, timeout=5).status_code == status
    assert len(flaky.seen) == 1


def test_refused_connections_are_retried_then_raised():
    with LocalHTTPServer(QuietHandler) as server:
        url = server.url  # a port that was just free and is closed again below
    with pytest.raises(requests.ConnectionError):
        retrying_session(retries=2, backoff=0).post(url, timeout=5)


def test_clients_ride_out_two_failures(flaky):
    flaky.body = {"status": "success", "data": {"resultType": "scalar",
                                                "result": [1700000000, "1"]}}
    assert PrometheusClient(flaky.url, backoff=0).query("1")[0].points[0][1] == 1.0
    flaky.seen.clear()
    flaky.body = ARGO_APP
    status = ArgoCDClient(flaky.url, "t", backoff=0).sync("order-prod", revision="abc")
    assert status.revision == "abc"  # the sync POST keeps being retried, as it always was
    assert flaky.seen == [("POST", "/api/v1/applications/order-prod/sync")] * 3
    flaky.seen.clear()
    flaky.body = []
    AlertmanagerClient(flaky.url, backoff=0).post_alerts([{"labels": {"alertname": "A"}}])
    assert flaky.seen == [("POST", "/api/v2/alerts")] * 3
    flaky.seen.clear()
    flaky.body = {"period": "2026-11", "usage": [
        {"meter": "orders", "flushed": 2, "pending": 1, "total": 3}]}
    assert BillingClient(flaky.url, backoff=0).usage(7).meters[0].total == 3
    assert flaky.seen == [("GET", "/v1/tenants/7/usage")] * 3


def test_clients_raise_their_own_errors_and_never_repeat_a_silence(flaky):
    flaky.failures = 99
    with pytest.raises(PrometheusUnavailable, match="503"):
        PrometheusClient(flaky.url, retries=1, backoff=0).query("up")
    assert len(flaky.seen) == 2
    flaky.seen.clear()
    at = parse_time("2026-11-21T10:00:00Z")
    silence = NewSilence((Matcher("service", "order"),), at, at, "dev@x", "deploy")
    with pytest.raises(AlertmanagerUnavailable, match="503"):
        AlertmanagerClient(flaky.url, backoff=0).create_silence(silence)
    assert flaky.seen == [("POST", "/api/v2/silences")]
    flaky.seen.clear()
    with pytest.raises(BillingUnavailable, match="billing is unreachable: HTTP 503"):
        BillingClient(flaky.url, attempts=2, backoff=0).usage(7)
    assert len(flaky.seen) == 2


def test_readyz_503_is_read_once_not_retried(flaky):
    """A service's 503 /readyz carries its checks; the probe reads it at once."""
    flaky.how, flaky.failures = "drop", 1
    flaky.body = {"status": "ok", "checks": {"db": "ok"}}
    assert services.readiness(flaky.url).status == "ok"  # the reset was retried once
    flaky.seen.clear()
    flaky.how, flaky.failures = 503, 99
    with pytest.raises(services.ServiceUnavailable):
        services.readiness(flaky.url)  # an empty 503 is not a readiness answer
    assert len(flaky.seen) == 1
