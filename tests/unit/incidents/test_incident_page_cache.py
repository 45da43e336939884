"""The incident page's kept copy of its incident (page_cache): read once, shown again while
nothing changed, and read again as soon as any row it shows changes."""
from __future__ import annotations

from portal.auth.models import User
from portal.catalog.models import Service
from portal.db import utcnow
from portal.incidents import page_cache, service, timeline
from portal.incidents.models import Incident, TimelineEntry
from portal.oncall.models import Page, ReceivedAlert
from tests.seeded_demo import counting


def page(client, incident_id: int, query: str = "") -> str:
    response = client.get(f"/incidents/{incident_id}{query}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_a_second_view_reads_only_the_version(client, login_as, make_incident, session):
    incident = make_incident()
    login_as("manager")
    page(client, incident.id)
    with counting(session.connection()) as first:
        page(client, incident.id)
    page_cache._kept.clear()
    with counting(session.connection()) as cold:
        page(client, incident.id)
    # The incident, its alerts and its timeline are not read again, nor its runbooks.
    assert len(cold) - len(first) >= 3, (cold, first)
    assert sum("incidents_timeline" in s and "xmin" not in s for s in first) == 0


def test_the_page_changes_with_a_note_a_status_and_a_service_name(
        client, login_as, make_incident, session, svc):
    incident = make_incident()
    user = login_as("manager")
    before = page(client, incident.id)
    assert "Status triggered → acknowledged" not in before

    timeline.add_note(session=session, incident_id=incident.id, body="Rolled back **v42**",
                      actor_email=user.email)
    session.commit()
    shown = page(client, incident.id)
    assert "<strong>v42</strong>" in shown
    assert "<strong>v42</strong>" in page(client, incident.id, "?kind=note")

    incident = session.get(Incident, incident.id)
    service.change_status(session=session, incident=incident, to="acknowledged", actor=user)
    session.commit()
    shown = page(client, incident.id)
    assert 'data-status="acknowledged"' in shown
    assert "Status triggered → acknowledged" in shown

    session.get(Service, svc.id).name = "Orders Renamed"
    session.commit()
    assert "Orders Renamed" in page(client, incident.id)


def test_a_pin_and_an_edited_entry_show_at_once(client, login_as, make_incident, session):
    incident = make_incident()
    login_as("manager")
    note = timeline.add_note(session=session, incident_id=incident.id, body="first words",
                             actor_email="oncall@test.example")
    session.commit()
    assert "first words" in page(client, incident.id)
    entry = session.get(TimelineEntry, note.id)
    entry.pinned, entry.summary = True, "Pinned words"
    session.commit()
    shown = page(client, incident.id)
    key_events = shown[shown.index('id="key-events"'):shown.index("</section>",
                                                                  shown.index('id="key-events"'))]
    assert "Pinned words" in key_events


def test_a_missing_incident_is_404_and_stays_404(client, login_as):
    login_as("manager")
    assert client.get("/incidents/987654321").status_code == 404
    assert client.get("/incidents/987654321").status_code == 404


def test_the_respond_form_follows_the_severity(client, login_as, make_incident, session):
    incident = make_incident("sev2")
    user = login_as("manager")
    assert '<option selected value="sev2">' in page(client, incident.id)
    service.change_severity(session=session, incident=session.get(Incident, incident.id),
                            severity="sev1", actor_email=user.email)
    session.commit()
    shown = page(client, incident.id)
    assert '<option selected value="sev1">' in shown
    assert '<option selected value="sev2">' not in shown
    # Its forms still carry the viewer's CSRF token, as the page's other forms do.
    token = shown.split('name="csrf-token" content="')[1].split('"')[0]
    assert shown.count(f'<input id="csrf_token" name="csrf_token" type="hidden" '
                       f'value="{token}">') >= 2


def test_the_list_shows_incidents_with_their_services_and_waiting_alerts(
        client, login_as, make_incident, session, svc):
    incident = make_incident("sev3", title="Slow checkout")
    session.add(ReceivedAlert(fingerprint="incident-page-w1", status="firing", service="order-t",
                              severity="warning", labels={"alertname": "CheckoutLatency"},
                              annotations={"summary": "p99 above 2 s"}, starts_at=utcnow()))
    session.commit()
    login_as("oncall")
    body = client.get("/incidents/").get_data(as_text=True)
    row = body[body.index(f'<tr><td>{incident.id}</td>'):]
    row = row[:row.index("</tr>")]
    assert "Slow checkout" in row and svc.name in row
    assert 'data-severity="sev3">Sev3</span>' in row and 'data-status="triggered"' in row
    waiting = body[body.index("Firing alerts without an incident"):]
    assert "<strong>CheckoutLatency</strong>" in waiting and "p99 above 2 s" in waiting
    assert "/incidents/alerts/incident-page-w1/declare" in waiting


def test_the_pages_follow_their_status_and_assignee(client, login_as, make_incident, session,
                                                    make_user):
    incident = make_incident()
    login_as("manager")
    page(client, incident.id)  # kept before the page exists
    responder = make_user("oncall")
    paged = Page(incident_id=incident.id, severity="sev2", title="Orders failing",
                 assignee_id=responder.id, due_at=utcnow())
    session.add(paged)
    session.commit()
    assert f"#{paged.id}</a> (triggered, {responder.email})" in page(client, incident.id)
    session.get(Page, paged.id).status = "acknowledged"
    session.commit()
    assert f"#{paged.id}</a> (acknowledged, {responder.email})" in page(client, incident.id)
    session.get(User, responder.id).email = "renamed-responder@test.example"
    session.commit()
    assert (f"#{paged.id}</a> (acknowledged, renamed-responder@test.example)"
            in page(client, incident.id))
