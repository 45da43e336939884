"""The home's glance statement also reads the viewer's open pages, the admin's recent audit
entries and the on-call schedules' version: each must equal what its own statement reads,
and the page must show changes on the next view."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import text

from portal.auth import audit
from portal.db import utcnow
from portal.home import now as home_now
from portal.oncall import paging, schedule_cache
from portal.oncall.models import Page
from tests.seeded_demo import counting

NOW = utcnow()


def _page(session, title, assignee, status="triggered", minutes_ago=5, incident_id=None):
    session.add(Page(title=title, severity="sev2", status=status, assignee_id=assignee.id,
                     incident_id=incident_id, created_at=NOW - timedelta(minutes=minutes_ago),
                     due_at=NOW))


def test_pages_audit_and_version_match_their_own_statements(session, make_user):
    admin = make_user("admin", "oncall")
    other = make_user("oncall")
    for i in range(home_now.LIMIT + 2):
        _page(session, f"mine {i}", admin, status="acknowledged" if i % 2 else "triggered",
              minutes_ago=i, incident_id=i if i % 3 else None)
    _page(session, "mine but resolved", admin, status="resolved")
    _page(session, "someone else's", other)
    for i in range(home_now.AUDIT_LIMIT + 3):
        audit.record(session=session, action=f"test.action{i}", actor=admin,
                     target_type="thing" if i % 2 else None, target_id=i,
                     details={"n": i, "b": "x"} if i % 3 else None,
                     origin=audit.Origin(ip="10.1.2.3" if i % 2 else None))
    session.commit()

    with counting(session.connection()) as seen:
        found = home_now._read_glance(session, admin, None, NOW)
    assert len(seen) == 1
    assert found.pages == paging.open_pages(session=session, user=admin, limit=home_now.LIMIT)
    assert len(found.pages) == home_now.LIMIT
    expected = audit.recent(session=session, limit=home_now.AUDIT_LIMIT)
    assert found.audit is not None and len(found.audit) == home_now.AUDIT_LIMIT
    assert [(e.id, e.at, e.actor_email, e.action, e.details, e.target_type, e.target_id,
             e.outcome, None if e.ip is None else str(e.ip)) for e in found.audit] == [
        tuple(None if v is None else str(v) if k == "ip" else v
              for k, v in row._mapping.items()) for row in expected]

    # The version was kept for the schedules' cache: it asks no more, and it is what its
    # own statement reads.
    with counting(session.connection()) as seen:
        kept = schedule_cache._version(session)
    assert seen == []
    assert kept[0] == str(session.execute(text("SELECT " + schedule_cache.VERSION_SQL))
                          .scalar())


def test_a_viewer_without_the_admin_role_reads_no_audit(session, make_user):
    oncall = make_user("oncall")
    audit.record(session=session, action="test.action", actor=oncall)
    session.commit()
    assert home_now._read_glance(session, oncall, None, NOW).audit is None


def test_a_pending_change_is_not_given_an_old_version(session, make_user):
    viewer = make_user("oncall")
    session.add(Page(title="unflushed", severity="sev2", assignee_id=viewer.id, due_at=NOW))
    home_now._read_glance(session, viewer, None, NOW)
    assert schedule_cache._MEMO not in session.info or \
        session.info[schedule_cache._MEMO][0] is not session.get_transaction()
    session.rollback()


def test_new_pages_and_audit_entries_show_on_the_next_view(client, session, login_as):
    admin = login_as("admin", "oncall")
    page = client.get("/").get_data(as_text=True)
    assert "brand new page" not in page and "test.brand_new" not in page
    _page(session, "brand new page", admin)
    audit.record(session=session, action="test.brand_new", actor=admin)
    session.commit()
    page = client.get("/").get_data(as_text=True)
    assert "brand new page" in page and "test.brand_new" in page
