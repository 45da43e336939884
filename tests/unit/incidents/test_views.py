"""Incident pages: role checks, audit entries, bad input, the live timeline over HTTP."""
import re

import pytest
from sqlalchemy import select

from portal.auth.models import AuditEntry
from portal.incidents import timeline
from portal.incidents.models import Incident, TimelineEntry


def audit(session, action):
    return list(session.scalars(select(AuditEntry).where(AuditEntry.action == action)
                                .order_by(AuditEntry.id)))


@pytest.mark.parametrize("role, expected", [("tenant_viewer", 403), ("developer", 200),
                                            ("oncall", 200), ("manager", 200), ("admin", 200)])
def test_incident_pages_are_for_staff(client, login_as, make_incident, role, expected):
    incident = make_incident()
    login_as(role)
    assert client.get("/incidents/").status_code == expected
    assert client.get(f"/incidents/{incident.id}").status_code == expected
    assert client.get(f"/incidents/{incident.id}/timeline?after_id=0").status_code == expected


@pytest.mark.parametrize("role, expected", [("developer", 403), ("oncall", 200),
                                            ("manager", 200), ("tenant_viewer", 403)])
def test_metrics_are_for_managers_and_oncall(client, login_as, role, expected):
    login_as(role)
    assert client.get("/incidents/metrics").status_code == expected


@pytest.mark.parametrize("role, expected", [("developer", 403), ("tenant_viewer", 403),
                                            ("oncall", 303), ("manager", 303)])
def test_acknowledge_needs_a_responder_role(client, login_as, make_incident, session, role,
                                            expected):
    incident = make_incident()
    login_as(role)
    response = client.post_form(f"/incidents/{incident.id}/status", {"to": "acknowledged"})
    assert response.status_code == expected
    session.refresh(incident)
    assert (incident.status == "acknowledged") is (expected == 303)


def test_resolve_before_acknowledge_is_403_with_the_rule_and_nothing_audited(
        client, login_as, make_incident, session):
    incident = make_incident()
    login_as("oncall")
    response = client.post_form(f"/incidents/{incident.id}/status", {"to": "resolved"})
    assert response.status_code == 403
    assert "acknowledge it first" in response.get_data(as_text=True)
    assert audit(session, "incidents.status") == []


def test_status_changes_are_audited(client, login_as, make_incident, session):
    incident = make_incident()
    user = login_as("manager")
    for to in ("acknowledged", "mitigated", "resolved"):
        assert client.post_form(f"/incidents/{incident.id}/status", {"to": to}).status_code == 303
    entries = audit(session, "incidents.status")
    assert [(e.actor_email, e.target_id, e.details["to"]) for e in entries] == [
        (user.email, str(incident.id), "acknowledged"), (user.email, str(incident.id), "mitigated"),
        (user.email, str(incident.id), "resolved")]


def test_declare_by_hand_is_audited_and_redirects(client, login_as, session, svc):
    login_as("developer")
    response = client.post_form("/incidents/declare", {
        "title": "Checkout 502s", "severity": "sev2", "services": [svc.slug]})
    assert response.status_code == 303
    incident = session.scalar(select(Incident).where(Incident.title == "Checkout 502s"))
    assert response.headers["Location"] == f"/incidents/{incident.id}"
    assert audit(session, "incidents.declare")[-1].target_id == str(incident.id)


@pytest.mark.parametrize("severity", ["sev9", "critical", ""])
def test_unknown_severity_re_renders_the_form_with_422(client, login_as, session, severity):
    login_as("oncall")
    response = client.post_form("/incidents/declare", {"title": "x", "severity": severity})
    assert response.status_code == 422
    assert "Unknown severity: choose Sev1, Sev2, Sev3 or Sev4." in response.get_data(as_text=True)
    assert session.scalar(select(Incident).where(Incident.title == "x")) is None


def test_unknown_service_is_a_field_message(client, login_as):
    login_as("oncall")
    response = client.post_form("/incidents/declare", {"title": "x", "severity": "sev3",
                                                       "services": ["no-such-service"]})
    assert response.status_code == 422
    assert "Unknown service: no-such-service." in response.get_data(as_text=True)


def test_declare_from_the_service_page(client, login_as, session, svc):
    login_as("oncall")
    page = client.get(f"/catalog/services/{svc.slug}").get_data(as_text=True)
    assert 'id="service-declare"' in page and "No open incident affects this service" in page
    client.post_form("/incidents/declare", {"title": "Order T down", "severity": "sev1",
                                            "services": svc.slug})
    page = client.get(f"/catalog/services/{svc.slug}").get_data(as_text=True)
    assert "Order T down" in page


def test_script_in_a_note_is_sanitized_and_the_note_audited(client, login_as, make_incident,
                                                            session):
    incident = make_incident()
    login_as("developer")
    body = "**DB** pool <script>alert(1)</script> [x](javascript:alert(2))"
    response = client.htmx("POST", f"/incidents/{incident.id}/notes", data={"body": body})
    assert response.status_code == 200
    assert response.headers["HX-Trigger"] == "timeline-refresh"
    assert "<textarea" in response.get_data(as_text=True)  # the form, empty again
    entry = session.scalar(select(TimelineEntry).where(TimelineEntry.kind == "note",
                                                       TimelineEntry.incident_id == incident.id))
    assert "<strong>DB</strong>" in entry.body_html
    assert "<script" not in entry.body_html
    assert not any("javascript" in href for href in re.findall(r'href="([^"]*)"', entry.body_html))
    page = client.get(f"/incidents/{incident.id}").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page
    assert audit(session, "incidents.note")[-1].details["entry_id"] == entry.id


def test_huge_note_is_refused_with_the_limit_and_keeps_the_text(client, login_as, make_incident,
                                                                session):
    incident = make_incident()
    login_as("oncall")
    response = client.htmx("POST", f"/incidents/{incident.id}/notes",
                           data={"body": "x" * 10_001})
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "at most 10,000 characters; this one has 10,001" in body
    assert "x" * 10_001 in body  # what was typed is handed back, not lost
    assert session.scalar(select(TimelineEntry).where(TimelineEntry.kind == "note")) is None


def test_empty_note_is_422(client, login_as, make_incident):
    incident = make_incident()
    login_as("oncall")
    response = client.htmx("POST", f"/incidents/{incident.id}/notes", data={"body": "  "})
    assert response.status_code == 422


def test_poll_returns_only_new_entries_and_never_the_note_form(client, login_as, make_incident,
                                                               session):
    incident = make_incident()
    login_as("developer")
    start = timeline.latest_id(session=session, incident_id=incident.id)
    pins = ".".join(str(e.id) for e in timeline.pinned(session=session, incident_id=incident.id))
    quiet = client.htmx("GET", f"/incidents/{incident.id}/timeline?after_id={start}&pins={pins}")
    assert f'data-after-id="{start}"' in quiet.get_data(as_text=True)
    assert "entry-" not in quiet.get_data(as_text=True)
    note = timeline.add_note(session=session, incident_id=incident.id, body="first",
                             actor_email="a@test.example")
    session.commit()
    fresh = client.htmx("GET", f"/incidents/{incident.id}/timeline?after_id={start}&pins={pins}")
    html = fresh.get_data(as_text=True)
    assert f'id="entry-{note.id}"' in html and f'data-after-id="{note.id}"' in html
    assert 'hx-swap-oob="beforeend:#timeline-entries"' in html
    assert "note-form" not in html and "<textarea" not in html
    assert html.count('class="entry ') == 1


def test_poll_brings_pins_made_by_another_watcher(client, login_as, make_incident, session):
    incident = make_incident()
    note = timeline.add_note(session=session, incident_id=incident.id, body="the clue",
                             actor_email="a@test.example")
    session.commit()
    login_as("developer")
    after = timeline.latest_id(session=session, incident_id=incident.id)
    shown = {e.id for e in timeline.pinned(session=session, incident_id=incident.id)}
    url = f"/incidents/{incident.id}/timeline?after_id={after}&pins="
    # Someone else pins the note; this watcher's page still shows the old pins.
    timeline.set_pinned(session=session, entry=note, pinned_=True)
    session.commit()
    html = client.htmx("GET", url + ".".join(map(str, sorted(shown)))).get_data(as_text=True)
    key_events = html.split('<section id="key-events" hx-swap-oob="true"')[1].split("</section>")[0]
    assert "the clue" in key_events
    assert f'<li id="entry-{note.id}" hx-swap-oob="true"' in html and "★ pinned" in html
    now = ".".join(map(str, sorted(shown | {note.id})))
    assert f"pins={now}" in html  # the next poll carries the new pins
    quiet = client.htmx("GET", url + now).get_data(as_text=True)
    assert "key-events" not in quiet and "entry-" not in quiet
    # Unpinning shows up the same way, and bad pin lists are a 400.
    timeline.set_pinned(session=session, entry=note, pinned_=False)
    session.commit()
    html = client.htmx("GET", url + now).get_data(as_text=True)
    assert f'<li id="entry-{note.id}" hx-swap-oob="true"' in html and "☆ pin" in html
    assert client.htmx("GET", url + "1.x").status_code == 400


def test_kind_filter_and_unknown_kind(client, login_as, make_incident, session):
    incident = make_incident()
    timeline.add_note(session=session, incident_id=incident.id, body="the note",
                      actor_email="a@test.example")
    session.commit()
    login_as("developer")
    notes = client.htmx("GET", f"/incidents/{incident.id}?kind=note").get_data(as_text=True)
    assert 'data-kind="note"' in notes and 'data-kind="status"' not in notes
    assert client.get(f"/incidents/{incident.id}?kind=bogus").status_code == 400


def test_pin_toggles_and_is_audited(client, login_as, make_incident, session):
    incident = make_incident()
    note = timeline.add_note(session=session, incident_id=incident.id, body="key",
                             actor_email="a@test.example")
    session.commit()
    login_as("developer")
    response = client.htmx("POST", f"/incidents/{incident.id}/entries/{note.id}/pin",
                           data={"pinned": "1"})
    assert response.status_code == 200 and "★ pinned" in response.get_data(as_text=True)
    session.refresh(note)
    assert note.pinned
    assert audit(session, "incidents.pin")[-1].details == {"entry_id": note.id, "pinned": True}


def test_missing_incident_is_404(client, login_as):
    login_as("oncall")
    assert client.get("/incidents/999999").status_code == 404
    assert client.post_form("/incidents/999999/status", {"to": "acknowledged"}).status_code == 404
