"""The outgoing-webhook escalation step against a local HTTP server standing in for the
receiver a team configures (an incident bot, a status tool): the server checks the request
the step makes (POST, the configured path and query, a JSON content type, the documented
body with the page, the step and the alert's labels). Calls are queued with the page,
delivered by the tick, retried with backoff, and their outcome lands on the page timeline."""
import json
from datetime import UTC, datetime, timedelta

import pytest

from portal.oncall import escalation, notify, paging, step_webhooks
from portal.oncall.escalation import StepSpec
from tests.httpserver import LocalHTTPServer, QuietHandler

T0 = datetime(2026, 11, 18, 3, 0, tzinfo=UTC)


@pytest.fixture
def receiver():
    """Answers 200 to a well-formed call, 400 to a malformed one, or `status['code']`."""
    calls, status = [], {"code": 200}

    class Handler(QuietHandler):
        def do_POST(self):
            body = self.json_body()
            calls.append((self.path, self.headers["Content-Type"], body))
            ok = (self.path == "/hooks/escalate?team=orders"
                  and self.headers["Content-Type"] == "application/json"
                  and body["event"] == "escalation_step" and isinstance(body["page"], dict))
            self.reply(status["code"] if ok else 400, {"ok": ok})

    with LocalHTTPServer(Handler) as server:
        yield f"{server.url}/hooks/escalate?team=orders", calls, status


def channels(allowed=("127.0.0.1",)):
    return notify.Channels("k" * 32, "https://portal.example", None, None, max_attempts=3,
                           timeout=2.0, allowed_hosts=allowed)


@pytest.fixture
def webhook_page(session, make_user, make_schedule, team_with_service, receiver):
    team, svc = team_with_service
    primary = make_user("oncall")
    make_schedule([primary], slug="hook-sched", team=team)
    chain = escalation.set_chain(session=session, chain=None, name="hook", description="",
                                 steps=[StepSpec("page", target="primary"),
                                        StepSpec("webhook", webhook_url=receiver[0])])
    escalation.add_route(session=session, matcher='{service="orders"}', chain=chain)
    page = paging.start_paging(session=session, incident_id=970, severity="sev2",
                               title="Orders failing", service_slugs=[svc.slug], now=T0,
                               alert_labels={"service": "orders", "alertname": "Down"})
    return page


def kinds(session, page):
    session.expire(page, ["events"])
    return [(e.kind, e.summary) for e in page.events]


def test_the_step_posts_the_page_as_json_and_records_the_answer(session, webhook_page,
                                                                receiver):
    url, calls, _ = receiver
    assert [k for k, _ in kinds(session, webhook_page)] == ["sent", "webhook"]
    assert calls == []  # queued with the page; the tick delivers it
    assert step_webhooks.deliver_due(session=session, channels=channels(), now=T0) == 1
    path, content_type, body = calls[0]
    assert body["page"]["id"] == webhook_page.id and body["page"]["severity"] == "sev2"
    assert body["step"] == 2 and body["alert_labels"] == {"service": "orders",
                                                          "alertname": "Down"}
    assert body["page_url"] == f"https://portal.example/oncall/pages/{webhook_page.id}"
    json.dumps(body)  # plain JSON all the way down
    assert kinds(session, webhook_page)[-1] == (
        "webhook_sent", "step 2: webhook to 127.0.0.1 answered HTTP 200 (attempt 1)")
    row = step_webhooks.for_page(session=session, page=webhook_page)[0]
    assert (row.status, row.response_status, row.attempts) == ("sent", 200, 1)
    assert step_webhooks.deliver_due(session=session, channels=channels(), now=T0) == 0


def test_failures_are_retried_with_backoff_then_recorded(session, webhook_page, receiver):
    _, calls, status = receiver
    status["code"] = 503
    step_webhooks.deliver_due(session=session, channels=channels(), now=T0)
    row = step_webhooks.for_page(session=session, page=webhook_page)[0]
    assert (row.status, row.attempts, row.next_attempt_at) == ("pending", 1,
                                                               T0 + timedelta(seconds=30))
    assert step_webhooks.deliver_due(session=session, channels=channels(),
                                     now=T0 + timedelta(seconds=29)) == 0
    step_webhooks.deliver_due(session=session, channels=channels(), now=T0 + timedelta(
        seconds=30))
    step_webhooks.deliver_due(session=session, channels=channels(), now=T0 + timedelta(
        minutes=3))
    assert (row.status, row.attempts, len(calls)) == ("failed", 3, 3)
    kind, summary = kinds(session, webhook_page)[-1]
    assert kind == "webhook_failed" and "failed after 3 attempts" in summary


def test_an_internal_address_is_refused_unless_allowlisted(session, webhook_page, receiver):
    _, calls, _ = receiver
    for minutes in (0, 1, 5):
        step_webhooks.deliver_due(session=session, channels=channels(allowed=()),
                                  now=T0 + timedelta(minutes=minutes))
    row = step_webhooks.for_page(session=session, page=webhook_page)[0]
    assert row.status == "failed" and calls == []
    assert "publicly reachable" in row.last_error
