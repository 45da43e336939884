"""The audit log: written by mutating actions, browsed and filtered by admins."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.auth import audit
from portal.auth.models import AuditEntry
from portal.db import utcnow


def add_entries(session, n, action="test.thing", actor="someone@test.example"):
    for i in range(n):
        audit.record(session=session, action=action, actor_email=actor, target_type="thing",
                     target_id=i, origin=audit.Origin(ip="10.1.2.3", request_id=f"r{i}"))
    session.commit()


def test_admin_filters_by_action_actor_ip_and_outcome(client, login_as, session):
    admin = login_as("admin")
    add_entries(session, 3, action="job.apply", actor="dev@test.example")
    body = client.get("/admin/audit?action=job.&actor=dev@test").get_data(as_text=True)
    assert body.count("job.apply") == 3 and "auth.login" not in body
    by_ip = client.get("/admin/audit?ip=10.1.2.3").get_data(as_text=True)
    assert by_ip.count("<td>10.1.2.3</td>") == 3
    logins = client.get("/admin/audit?action=auth.login&outcome=success").get_data(as_text=True)
    assert admin.email in logins


def test_htmx_filter_returns_only_rows(client, login_as, session):
    login_as("admin")
    add_entries(session, 2)
    response = client.htmx("GET", "/admin/audit?action=test.thing")
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<html" not in body and body.count("<tr>") == 2


def test_date_filter_and_bad_input(client, login_as, session):
    login_as("admin")
    add_entries(session, 1)
    today = utcnow().date()
    ok = client.get(f"/admin/audit?since={today}&until={today}&action=test.thing")
    assert ok.get_data(as_text=True).count("test.thing") >= 1
    later = client.get(f"/admin/audit?since={today + timedelta(days=2)}&action=test.thing")
    assert "No entries match." in later.get_data(as_text=True)
    bad = client.get("/admin/audit?since=yesterday&ip=999.1.1.1")
    assert bad.status_code == 422
    text = bad.get_data(as_text=True)
    assert "Not a valid date value" in text and "Enter an IP address." in text
    bad_htmx = client.htmx("GET", "/admin/audit?since=yesterday")
    assert bad_htmx.status_code == 422 and bad_htmx.headers["HX-Retarget"] == "#errors"


def test_pagination_walks_back_in_time(client, login_as, session):
    login_as("admin")
    add_entries(session, 60, action="bulk.item")
    first = client.get("/admin/audit?action=bulk.item").get_data(as_text=True)
    assert first.count("<code>bulk.item</code>") == 50 and "Older entries" in first
    oldest_shown = min(e.id for e in audit.search(session=session,
                                                   flt=audit.AuditFilter(action="bulk.item")))
    second = client.get(f"/admin/audit?action=bulk.item&before={oldest_shown}")
    assert second.get_data(as_text=True).count("<code>bulk.item</code>") == 10


def test_purge_removes_only_entries_past_retention(session):
    add_entries(session, 2, action="old.thing")
    session.execute(AuditEntry.__table__.update().where(AuditEntry.action == "old.thing")
                    .values(at=utcnow() - timedelta(days=500)))
    add_entries(session, 1, action="new.thing")
    removed = audit.purge_older_than(session=session, days=400)
    assert removed == 2
    remaining = session.scalar(select(func.count()).select_from(AuditEntry)
                               .where(AuditEntry.action.in_(["old.thing", "new.thing"])))
    assert remaining == 1


def test_mutating_request_without_audit_entry_is_caught(app, client, login_as):
    from flask import Blueprint
    bp = Blueprint("sneaky", __name__)

    @bp.post("/sneaky")
    def sneaky():
        return "changed", 200

    app.register_blueprint(bp)
    login_as("admin")
    with pytest.raises(RuntimeError, match="changed state without an audit entry"):
        client.post_form("/sneaky")
