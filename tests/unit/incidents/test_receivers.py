"""Signals from other domains landing on incidents: alerts, pages, silences, service events."""
from datetime import UTC, datetime

import pytest
from sqlalchemy import event as sa_event
from sqlalchemy import select

from portal import events
from portal.catalog import service as catalog
from portal.incidents import alerts, service, timeline
from portal.incidents.models import Incident
from portal.oncall import alerts as oncall_alerts
from portal.oncall.models import ReceivedAlert

T0 = datetime(2026, 11, 20, 14, 32, tzinfo=UTC)


def alert(status="firing", severity="critical", fingerprint="fp-1", service_slug="order-t",
          **labels):
    return {"fingerprint": fingerprint, "status": status, "severity": severity,
            "service": service_slug, "starts_at": T0, "ends_at": None,
            "labels": {"alertname": "HighErrorRate", "severity": severity, **labels},
            "annotations": {"summary": "order error rate > 5%",
                            "runbook_url": "https://portal.meridian.example/catalog/runbooks/high-error-rate"}}


def send(session, *batch):
    """One webhook delivery of `batch`, as the on-call domain stores and announces it."""
    oncall_alerts.record(session=session, alerts=list(batch))


def incidents(session):
    return list(session.scalars(select(Incident).order_by(Incident.id)))


def summaries(session, incident):
    return [e.summary for e in timeline.all_entries(session=session, incident_id=incident.id)]


@pytest.mark.parametrize("label, labels, expected", [
    ("critical", {}, "sev2"), ("page", {}, "sev2"), ("P0", {}, "sev1"), ("P1", {}, "sev2"),
    ("critical", {"incident_severity": "sev1"}, "sev1"), ("warning", {}, None),
    ("info", {}, None), (None, {}, None)])
def test_severity_mapping(label, labels, expected):
    assert alerts.auto_severity(label, labels) == expected


def test_critical_alert_opens_one_incident_and_dedupes_by_fingerprint(session, svc,
                                                                      opened_signals):
    send(session, alert())
    send(session, alert())  # repeat notification
    [incident] = incidents(session)
    assert (incident.severity, incident.source, [s.slug for s in incident.services]) == (
        "sev2", "alert", [svc.slug])
    assert [r.url for r in incident.runbooks] == [
        "https://portal.meridian.example/catalog/runbooks/high-error-rate"]
    linked = session.scalar(select(ReceivedAlert))
    assert (linked.incident_id, linked.labels["alertname"]) == (incident.id, "HighErrorRate")
    assert sum("Alert fired" in s for s in summaries(session, incident)) == 1
    assert len(opened_signals) == 1
    send(session, alert(status="resolved"))
    send(session, alert())
    assert len(incidents(session)) == 1
    assert summaries(session, incident)[-2:] == ["Alert resolved: HighErrorRate: order error "
                                                 "rate > 5%", "Alert fired again: HighErrorRate:"
                                                 " order error rate > 5%"]


def test_alert_firing_after_its_incident_resolved_opens_a_new_one(session, svc, make_user):
    send(session, alert())
    [first] = incidents(session)
    service.change_status(session=session, incident=first, to="resolved",
                          actor=make_user("admin"))
    send(session, alert(status="resolved"))
    send(session, alert())
    assert len(incidents(session)) == 2


def test_warning_waits_for_a_human_who_can_declare_from_it(session, svc):
    send(session, alert(severity="warning", fingerprint="w"))
    assert incidents(session) == []
    [row] = alerts.unlinked_firing(session=session)
    waiting = alerts.get(session=session, fingerprint=row.fingerprint)
    assert alerts.suggested_severity(waiting) == "sev3"
    incident = alerts.declare_from(session=session, alert=waiting, severity="sev3",
                                   actor_email="oncall@test.example")
    assert waiting.incident_id == incident.id and incident.roles["commander"]
    assert alerts.unlinked_firing(session=session) == []
    with pytest.raises(service.LifecycleError):
        alerts.declare_from(session=session, alert=waiting, severity="sev3", actor_email="x")


def test_unknown_service_label_does_not_stop_the_incident(session):
    send(session, alert(service_slug="ghost"))
    [incident] = incidents(session)
    assert incident.services == []


def test_page_and_silence_events_reach_the_incident_timeline(session, make_incident):
    incident = make_incident()
    events.page_event.send(session=session, incident_id=incident.id, kind="escalated",
                           user_email="lead@test.example", summary="to secondary after 15 min",
                           at=T0)
    events.silence_changed.send(session=session, silence_id="s-1", action="created",
                                actor_email="oncall@test.example", comment="deploy window",
                                matchers=[{"name": "alertname", "value": "HighErrorRate",
                                           "isRegex": False}], incident_id=incident.id)
    events.page_event.send(session=session, incident_id=None, kind="sent", user_email=None,
                           summary="unrelated", at=T0)
    assert summaries(session, incident)[-2:] == [
        "Page escalated: to secondary after 15 min",
        "Silence created (alertname=HighErrorRate): deploy window"]


def test_service_events_reach_open_incidents_of_that_service_only(session, make_incident, svc,
                                                                  make_user):
    open_one, closed = make_incident(title="open"), make_incident(title="closed")
    service.change_status(session=session, incident=closed, to="resolved",
                          actor=make_user("admin"))
    catalog.record_event(session=session, service=svc, kind="deploy",
                         summary="v2.3.1 to prod", actor_email="dev@test.example")
    assert summaries(session, open_one)[-1] == "Order T: deploy: v2.3.1 to prod"
    assert not any("v2.3.1" in s for s in summaries(session, closed))


@pytest.mark.parametrize("size", [2, 100])
def test_a_batch_that_opens_nothing_costs_one_statement_whatever_its_size(session, svc, size):
    """The webhook's common case (new or changed alerts with no incident to open or update)
    is one statement (read the existing rows, upsert) per delivery, not per alert; a copy
    loaded earlier in the transaction is not left stale."""
    send(session, alert(severity="warning", fingerprint="w"))
    loaded = session.scalar(select(ReceivedAlert).where(ReceivedAlert.fingerprint == "w"))
    assert (loaded.status, loaded.service) == ("firing", svc.slug)
    statements = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    sa_event.listen(session.connection(), "before_cursor_execute", listener)
    try:
        send(session, alert(status="resolved", severity="warning", fingerprint="w"),
             *[alert(severity="info", fingerprint=f"new-info-{i:03d}")
               for i in range(size - 1)])
    finally:
        sa_event.remove(session.connection(), "before_cursor_execute", listener)
    assert len(statements) == 1, statements
    assert loaded.status == "resolved"
    assert incidents(session) == []
    assert len(alerts.unlinked_firing(session=session, limit=500)) == size - 1


def test_warning_that_escalates_to_critical_opens_an_incident(session, svc):
    send(session, alert(severity="warning", fingerprint="e"))
    assert incidents(session) == []
    send(session, alert(severity="critical", fingerprint="e"))
    [incident] = incidents(session)
    assert session.scalar(select(ReceivedAlert).where(
        ReceivedAlert.fingerprint == "e")).incident_id == incident.id
