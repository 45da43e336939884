"""The Alertmanager webhook: bearer token, validation (400 and a log line), dedupe by
fingerprint, the alert_received contract, and an audit entry per delivery."""
import json
import logging

import pytest
from sqlalchemy import event as sa_event
from sqlalchemy import select

from portal import events
from portal.auth.models import AuditEntry
from portal.oncall.models import ReceivedAlert

URL = "/oncall/alertmanager/webhook"
TOKEN = "s3cret-webhook-token"


def notification(*alerts, status="firing"):
    return {"version": "4", "groupKey": '{}:{alertname="X"}', "status": status,
            "receiver": "portal", "groupLabels": {}, "commonLabels": {},
            "commonAnnotations": {}, "externalURL": "http://am", "truncatedAlerts": 0,
            "alerts": list(alerts)}


def alert(fp="a1b2c3", status="firing", **labels):
    return {"status": status, "fingerprint": fp,
            "labels": {"alertname": "HighErrorRate", "severity": "critical",
                       "service": "order-service", **labels},
            "annotations": {"summary": "5xx above 5%"},
            "startsAt": "2026-11-21T07:00:00.123456789Z",
            "endsAt": "0001-01-01T00:00:00Z", "generatorURL": "http://prom/graph"}


@pytest.fixture
def hook(app, client):
    app.config["ALERTMANAGER_WEBHOOK_TOKEN"] = TOKEN

    def post(body, token=TOKEN):
        data = body if isinstance(body, (bytes, str)) else json.dumps(body)
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return client.post(URL, data=data, headers=headers, content_type="application/json")
    return post


@pytest.fixture
def received():
    seen = []

    def receiver(sender, **kw):
        seen.extend(kw["alerts"])
    events.alert_received.connect(receiver)
    yield seen
    events.alert_received.disconnect(receiver)


def test_valid_notification_is_stored_announced_and_audited(hook, session, received):
    response = hook(notification(alert()))
    assert response.status_code == 200 and response.json == {"received": 1, "changed": 1}
    row = session.get(ReceivedAlert, "a1b2c3")
    assert (row.status, row.severity, row.ends_at) == ("firing", "critical", None)
    assert row.starts_at.microsecond == 123456
    [sent] = received
    assert (sent["fingerprint"], sent["status"], sent["severity"]) == ("a1b2c3", "firing",
                                                                       "critical")
    entry = session.scalars(select(AuditEntry).where(
        AuditEntry.action == "oncall.alerts_received")).one()
    assert entry.actor_email == "alertmanager" and entry.details["received"] == 1


def test_repeats_are_deduplicated_and_status_changes_announced(hook, session, received):
    for _ in range(3):
        hook(notification(alert(), alert()))  # a duplicate inside one batch, too
    hook(notification(alert(status="resolved"), status="resolved"))
    hook(notification(alert(status="resolved"), status="resolved"))
    hook(notification(alert()))  # fires again
    assert [a["status"] for a in received] == ["firing", "resolved", "firing"]
    assert session.get(ReceivedAlert, "a1b2c3").received_count == 6


@pytest.mark.parametrize("token", [None, "wrong", TOKEN + "x"])
def test_missing_or_wrong_token_is_401(hook, token, received):
    response = hook(notification(alert()), token=token)
    assert response.status_code == 401 and received == []


def test_webhook_without_configured_token_refuses_everything(app, client):
    app.config["ALERTMANAGER_WEBHOOK_TOKEN"] = None
    response = client.post(URL, json=notification(alert()),
                           headers={"Authorization": "Bearer "})
    assert response.status_code == 503


@pytest.mark.parametrize("body, where", [
    (b"not json", "body"),
    (notification(), "alerts"),
    ({**notification(alert()), "version": "3"}, "version"),
    (notification({**alert(), "labels": {}}), "alerts.0.labels"),
    (notification({**alert(), "fingerprint": "'; drop table"}), "alerts.0.fingerprint"),
    (notification({**alert(), "startsAt": "yesterday"}), "alerts.0.startsAt"),
    (notification({**alert(), "status": "burning"}), "alerts.0.status"),
])
def test_malformed_payload_is_400_and_logged(hook, body, where, caplog, received):
    with caplog.at_level(logging.WARNING, logger="portal.oncall.oncall_views"):
        response = hook(body)
    assert response.status_code == 400
    assert response.json["error"] == "malformed payload"
    assert where in response.json["detail"]
    assert "malformed payload refused" in caplog.text
    assert received == []


def test_unknown_service_label_is_passed_as_none(hook, received):
    hook(notification(alert(fp="ff01", service="not-in-catalog")))
    assert received[0]["service"] is None


def statements_of(connection, call):
    seen = []
    listener = lambda *args: seen.append(args[2])  # noqa: E731
    sa_event.listen(connection, "before_cursor_execute", listener)
    try:
        call()
    finally:
        sa_event.remove(connection, "before_cursor_execute", listener)
    return seen


def warnings(prefix, n, repeats=0):
    """n alerts of one delivery, the first `repeats` of them already known."""
    return [alert(fp=f"{'0' if i < repeats else prefix}{i:05d}", severity="warning")
            for i in range(n)]


def test_statements_per_delivery_do_not_grow_with_the_batch(hook, connection, session,
                                                            received):
    hook(notification(*warnings("0", 100)))
    counts = {n: len(statements_of(connection, lambda n=n: hook(notification(
        *warnings(f"{n}", n, repeats=n // 2))))) for n in (10, 100)}
    assert counts[10] == counts[100], counts
    small = [s for s in statements_of(connection, lambda: hook(notification(
        *warnings("a", 10)))) if "SAVEPOINT" not in s]  # the test's stand-in for BEGIN/COMMIT
    assert len(small) == 2, small  # the one alert table's upsert, the audit entry
    assert session.get(ReceivedAlert, "000049").received_count == 2


def test_nul_bytes_in_labels_are_refused_with_400(hook, session, received):
    response = hook(notification(alert(fp="nul1", team="a\u0000b")))
    assert response.status_code == 400 and "NUL character" in response.get_data(as_text=True)
    assert received == [] and session.get(ReceivedAlert, "nul1") is None


def test_overlong_severity_and_runbook_are_stored_bounded(hook, session):
    long_link = "https://runbooks.example/" + "x" * 600
    response = hook(notification(alert(fp="long1", severity="critical" * 10) | {
        "annotations": {"runbook_url": long_link}}))
    assert response.status_code == 200
    assert session.get(ReceivedAlert, "long1").severity == ("critical" * 10)[:20]
