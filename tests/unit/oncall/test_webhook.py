"""The Alertmanager webhook: bearer token, validation (400 and a log line), dedupe by
fingerprint, the alert_received contract, and an audit entry per delivery."""
import json
import logging

import pytest
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
        seen.append(kw["alert"])
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
    with caplog.at_level(logging.WARNING, logger="portal.oncall.views"):
        response = hook(body)
    assert response.status_code == 400
    assert response.json["error"] == "malformed payload"
    assert where in response.json["detail"]
    assert "malformed payload refused" in caplog.text
    assert received == []


def test_unknown_service_label_is_passed_as_none(hook, received):
    hook(notification(alert(fp="ff01", service="not-in-catalog")))
    assert received[0]["service"] is None
