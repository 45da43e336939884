"""Pages follow their incident: acknowledging the incident acks its pages, resolving it
resolves them, and no escalation step fires afterwards (escalation ticks driven with an
explicit clock); optionally an incident opened from alerts resolves with its alerts."""
import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.db import utcnow
from portal.incidents import receivers as incident_receivers  # noqa: F401  (connects them)
from portal.incidents import service as incidents
from portal.incidents import timeline
from portal.oncall import paging
from portal.oncall import receivers as oncall_receivers  # noqa: F401  (connects them)
from portal.oncall.models import ReceivedAlert

TOKEN = "follow-token"


@pytest.fixture
def setup(session, make_user, make_schedule, seed_policies, team_with_service):
    team, svc = team_with_service
    primary, secondary = make_user("oncall"), make_user("oncall")
    make_schedule([primary], [secondary], slug="follow-sched", team=team)
    return {"primary": primary, "secondary": secondary, "svc": svc, **seed_policies}


def declare(session, svc, title="Checkout failing"):
    incident = incidents.declare(session=session, title=title, severity="sev2",
                                 actor_email=None, service_slugs=[svc.slug])
    return incident, paging.open_page_for_incident(session=session, incident_id=incident.id)


def page_summaries(session, incident):
    return [e.summary for e in timeline.all_entries(session=session, incident_id=incident.id)
            if e.kind == "page"]


def test_acknowledging_the_incident_acks_its_page_and_stops_escalation(
        app, session, setup, make_user):
    start = utcnow()
    incident, page = declare(session, setup["svc"])
    other_incident, other_page = declare(session, setup["svc"], title="Search slow")
    assert (page.status, page.assignee) == ("triggered", setup["primary"])
    responder = make_user("oncall")
    incidents.change_status(session=session, incident=incident, to="acknowledged",
                            actor=responder)
    assert (page.status, page.acked_by) == ("acked", responder)
    # The secondary step of Sev2 is due after 30 minutes: only the other page escalates.
    moved = paging.escalate_due(session=session, now=start + timedelta(minutes=45))
    assert moved == [other_page] and other_page.assignee == setup["secondary"]
    assert paging.escalate_due(session=session, now=start + timedelta(hours=3)) == [other_page]
    assert [e.kind for e in page.events] == ["sent", "acked"]
    assert page.assignee == setup["primary"] and page.step == 1
    assert page_summaries(session, incident)[-1] == (
        f"Page acknowledged: acknowledged by {responder.name} via incident #{incident.id}")
    assert other_incident.status == "triggered"


def test_resolving_the_incident_resolves_its_page_for_good(app, session, setup, make_user):
    start = utcnow()
    incident, page = declare(session, setup["svc"])
    admin = make_user("admin", "oncall")
    incidents.change_status(session=session, incident=incident, to="resolved", actor=admin)
    assert page.status == "resolved" and page.resolved_at is not None
    assert paging.open_page_for_incident(session=session, incident_id=incident.id) is None
    for hours in (1, 2, 24):
        assert paging.escalate_due(session=session, now=start + timedelta(hours=hours)) == []
    assert [e.kind for e in page.events] == ["sent", "resolved"]
    assert page_summaries(session, incident)[-1] == (
        f"Page resolved: resolved by {admin.name} via incident #{incident.id}")


def test_mitigating_acks_and_reopening_leaves_resolved_pages_alone(
        app, session, setup, make_user):
    incident, page = declare(session, setup["svc"])
    manager = make_user("manager", "oncall")
    incidents.change_status(session=session, incident=incident, to="acknowledged", actor=manager)
    incidents.change_status(session=session, incident=incident, to="mitigated", actor=manager)
    incidents.change_status(session=session, incident=incident, to="resolved", actor=manager)
    incidents.change_status(session=session, incident=incident, to="acknowledged", actor=manager)
    assert [e.kind for e in page.events] == ["sent", "acked", "resolved"]
    assert page.status == "resolved"


@pytest.fixture
def deliver(app, client):
    app.config["ALERTMANAGER_WEBHOOK_TOKEN"] = TOKEN

    def post(*fingerprint_status, service="oncall-test-svc"):
        body = {"version": "4", "groupKey": "g", "status": "firing", "receiver": "portal",
                "alerts": [{"status": status, "fingerprint": fp,
                            "labels": {"alertname": "OrdersDown", "severity": "critical",
                                       "service": service},
                            "annotations": {"summary": "orders failing"},
                            "startsAt": "2026-11-21T07:00:00Z"}
                           for fp, status in fingerprint_status]}
        response = client.post("/oncall/alertmanager/webhook", data=json.dumps(body),
                               content_type="application/json",
                               headers={"Authorization": f"Bearer {TOKEN}"})
        assert response.status_code == 200, response.get_data(as_text=True)
    return post


def alert_incident(session):
    [incident] = incidents.list_incidents(session=session)
    return incident


def test_incident_from_alerts_resolves_itself_when_all_alerts_resolve(
        app, session, setup, deliver):
    app.config["ONCALL_AUTO_RESOLVE_INCIDENTS"] = True
    deliver(("aa01", "firing"))
    incident = alert_incident(session)
    page = paging.open_page_for_incident(session=session, incident_id=incident.id)
    assert incident.source == "alert" and page.status == "triggered"
    # A second alert linked to the same incident keeps it open until it resolves too.
    deliver(("aa02", "firing"), service="")
    second = session.scalar(select(ReceivedAlert).where(ReceivedAlert.fingerprint == "aa02"))
    session.delete(second.incident)
    second.incident = incident
    session.flush()
    deliver(("aa01", "resolved"))
    session.refresh(incident)
    assert incident.status == "triggered"
    deliver(("aa02", "resolved"))
    session.refresh(incident)
    session.refresh(page)
    assert incident.status == "resolved" and page.status == "resolved"
    entries = timeline.all_entries(session=session, incident_id=incident.id)
    assert any(e.kind == "status" and e.summary == "Status triggered → resolved: all its "
               "alerts resolved" and e.actor_email is None for e in entries)
    assert "Page resolved: resolved by the portal via incident" in " ".join(
        e.summary for e in entries)


def test_without_the_setting_the_incident_stays_open(app, session, setup, deliver):
    assert app.config["ONCALL_AUTO_RESOLVE_INCIDENTS"] is False
    deliver(("bb01", "firing"))
    deliver(("bb01", "resolved"))
    incident = alert_incident(session)
    session.refresh(incident)
    assert incident.status == "triggered"
    assert paging.open_page_for_incident(session=session, incident_id=incident.id) is not None
