"""Postmortems, action items, metrics, the tenant banner and status page, the home panel."""
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from portal.auth.models import AuditEntry
from portal.db import utcnow
from portal.incidents import metrics, postmortems, service


def resolve(session, incident, actor, minutes_to_ack=5, minutes_to_resolve=30):
    """Resolve with chosen durations (timestamps set as the lifecycle would record them)."""
    for to in ("acknowledged", "resolved"):
        service.change_status(session=session, incident=incident, to=to, actor=actor)
    incident.acknowledged_at = incident.opened_at + timedelta(minutes=minutes_to_ack)
    incident.resolved_at = incident.opened_at + timedelta(minutes=minutes_to_resolve)
    session.commit()
    return incident


def test_postmortem_fill_complete_and_export(client, login_as, make_incident, make_user,
                                             session):
    incident = resolve(session, make_incident("sev1"), make_user("oncall"))
    login_as("oncall")
    page = client.get(f"/incidents/{incident.id}/postmortem").get_data(as_text=True)
    assert "Incident declared as Sev1" in page  # timeline pre-filled
    missing = client.post_form(f"/incidents/{incident.id}/postmortem",
                               {"summary": "Orders failed", "complete": "1"})
    assert missing.status_code == 422
    assert "Write the impact, root cause before completing" in missing.get_data(as_text=True)
    done = client.post_form(f"/incidents/{incident.id}/postmortem", {
        "summary": "Orders failed", "impact": "22 minutes", "root_cause": "Connection leak",
        "timeline": "- 14:32 alert", "complete": "1"})
    assert done.status_code == 303
    session.refresh(incident.postmortem)
    assert incident.postmortem.completed_at is not None
    item = client.post_form(f"/incidents/{incident.id}/action-items", {
        "title": "Add pool exhaustion alert", "owner_email": "sre@test.example",
        "due_date": "2026-12-11"})
    assert item.status_code == 303
    exported = client.get(f"/incidents/{incident.id}/postmortem.md")
    text = exported.get_data(as_text=True)
    assert exported.mimetype == "text/markdown"
    assert "## Root cause\n\nConnection leak" in text
    assert "| Add pool exhaustion alert | sre@test.example | 2026-12-11 | open |" in text
    actions = {e.action for e in session.scalars(select(AuditEntry))}
    assert {"incidents.postmortem", "incidents.action_item"} <= actions


def test_postmortem_get_writes_nothing(client, login_as, make_incident, session):
    incident = make_incident("sev3")
    login_as("developer")
    assert client.get(f"/incidents/{incident.id}/postmortem").status_code == 200
    session.expire_all()
    assert service.get(session=session, incident_id=incident.id).postmortem is None


def test_overdue_postmortems_on_manager_home_and_team_page(client, login_as, make_incident,
                                                           make_user, session, svc):
    incident = resolve(session, make_incident("sev2", title="Pool exhausted"), make_user("oncall"))
    incident.postmortem.due_at = utcnow() - timedelta(hours=1)
    session.commit()
    assert postmortems.overdue(session=session, team_slug=svc.team.slug) == [incident.postmortem]
    assert postmortems.overdue(session=session, team_slug="someone-else") == []
    login_as("manager")
    home = client.get("/").get_data(as_text=True)
    assert 'id="home-overdue-postmortems"' in home and "Pool exhausted" in home
    postmortems.add_action_item(session=session, incident=incident, title="add pool alarm",
                                owner_email="x@test.example",
                                due_date=date.today() - timedelta(days=2))
    session.commit()
    team = client.get(f"/incidents/teams/{svc.team.slug}")
    html = team.get_data(as_text=True)
    assert team.status_code == 200
    assert "overdue" in html and "Pool exhausted" in html
    assert "add pool alarm" in html and "late</span>" in html


def test_developer_home_has_no_incident_panel(client, login_as, make_incident):
    make_incident()
    login_as("developer")
    assert 'id="home-incidents"' not in client.get("/").get_data(as_text=True)


def test_action_items_track_status_across_incidents(client, login_as, make_incident, session):
    first, second = make_incident(title="a"), make_incident(title="b")
    late = postmortems.add_action_item(session=session, incident=first, title="late one",
                                       owner_email="x@test.example",
                                       due_date=date.today() - timedelta(days=1))
    postmortems.add_action_item(session=session, incident=second, title="other",
                                owner_email="y@test.example", due_date=None)
    session.commit()
    login_as("developer")
    response = client.get("/incidents/action-items")
    page = response.get_data(as_text=True)
    assert response.status_code == 200  # "status" is also the page's filter: not the line's
    assert "late one" in page and "other" in page and "late</span>" in page
    row = client.htmx("POST", f"/incidents/action-items/{late.id}/status", data={"status": "done"})
    assert row.status_code == 200 and f'id="action-{late.id}"' in row.get_data(as_text=True)
    session.refresh(late)
    assert late.status == "done" and late.completed_at is not None
    open_only = client.get("/incidents/action-items?status=not_done")
    assert open_only.status_code == 200 and "late one" not in open_only.get_data(as_text=True)
    fragment = client.htmx("GET", "/incidents/action-items?status=all")
    assert fragment.status_code == 200 and "late one" in fragment.get_data(as_text=True)
    bad = client.htmx("POST", f"/incidents/action-items/{late.id}/status", data={"status": "x"})
    assert bad.status_code == 422


def test_metrics_from_recorded_timestamps(session, make_incident, make_user, svc):
    oncall = make_user("oncall")
    resolve(session, make_incident("sev1"), oncall, minutes_to_ack=4, minutes_to_resolve=40)
    resolve(session, make_incident("sev1"), oncall, minutes_to_ack=6, minutes_to_resolve=80)
    resolve(session, make_incident("sev3"), oncall, minutes_to_ack=30, minutes_to_resolve=120)
    make_incident("sev3")  # open: counts, but has neither MTTA nor MTTR
    since = utcnow() - timedelta(days=1)
    by_sev = {r.key: r for r in metrics.by_severity(session=session, since=since)}
    assert (by_sev["sev1"].count, by_sev["sev1"].mtta_min, by_sev["sev1"].mttr_min) == (
        2, pytest.approx(5.0), pytest.approx(60.0))
    assert (by_sev["sev3"].count, by_sev["sev3"].mttr_min) == (2, pytest.approx(120.0))
    [row] = metrics.by_service(session=session, since=since)
    assert (row.key, row.count) == ("Order T", 4)
    assert metrics.postmortem_completion(session=session, since=since) == []  # none due yet
    later = utcnow() + timedelta(days=3)
    [month] = metrics.postmortem_completion(session=session, since=since, now=later)
    assert (month.required, month.completed, month.rate) == (2, 0, 0.0)


def test_metrics_page_shows_mttr_chart_and_table(client, login_as, make_incident, make_user,
                                                 session):
    resolve(session, make_incident("sev2"), make_user("oncall"), minutes_to_resolve=90)
    login_as("manager")
    page = client.get("/incidents/metrics").get_data(as_text=True)
    assert "/vendor/plotly.min.js" in page and 'id="c-month"' in page
    assert 'id="t-severity"' in page and "1 h 30 min" in page
    assert client.get("/incidents/metrics?months=0").status_code == 400


def test_tenant_sees_banner_and_status_page_of_own_tenant_only(client, login_as, make_incident,
                                                               make_tenant, session):
    mine, other = make_tenant(), make_tenant()
    ours = make_incident(title="Stale stock", customer_facing=True, tenants=[mine.slug])
    make_incident(title="Globex only", customer_facing=True, tenants=[other.slug])
    make_incident(title="Internal only", tenants=[mine.slug])
    login_as("tenant_viewer", tenant=mine)
    page = client.get(f"/tenants/{mine.slug}").get_data(as_text=True)
    assert f'id="incident-banner-{ours.id}"' in page and "We are investigating" in page
    assert "Globex only" not in page and "Internal only" not in page
    status = client.get(f"/incidents/status/{mine.slug}").get_data(as_text=True)
    assert "Stale stock" in status and "Globex only" not in status
    assert "Incident declared" not in status  # internal timeline stays internal
    assert client.get(f"/incidents/status/{other.slug}").status_code == 404
    assert client.get(f"/incidents/{ours.id}").status_code == 403


def test_tenant_scoped_links_hide_other_tenants_even_in_queries(session, make_incident,
                                                                make_tenant):
    mine, other = make_tenant(), make_tenant()
    make_incident(title="Theirs", customer_facing=True, tenants=[other.slug])
    session.info["tenant_id"] = mine.id
    try:
        assert service.for_tenant(session=session, tenant_id=other.id) == []
    finally:
        session.info.pop("tenant_id")
    assert [i.title for i in service.for_tenant(session=session, tenant_id=other.id)] == ["Theirs"]


def test_customer_update_via_form_needs_a_customer_facing_incident(client, login_as,
                                                                   make_incident, session):
    internal = make_incident()
    login_as("oncall")
    response = client.post_form(f"/incidents/{internal.id}/updates", {"message": "hello"})
    assert response.status_code == 409
    assert "Only customer-facing incidents" in response.get_data(as_text=True)
