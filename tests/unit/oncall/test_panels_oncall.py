"""On-call panels of other pages: the home's "My open pages" is read as plain columns and
shows what the Page objects showed; the incident page's chat finds the incident's pages in
its own statement and lists the same messages as when it was handed the pages."""
from datetime import timedelta

from sqlalchemy import select, update

from portal.db import utcnow
from portal.oncall import paging, schedule_cache, service
from portal.oncall.chat import delivery
from portal.oncall.chat.models import ChatMessage
from portal.oncall.models import Override, Page, Schedule
from tests.seeded_demo import counting


def _orm_open_pages(*, session, user=None, limit=paging.OPEN_PAGES_SHOWN):
    """Unresolved Page objects, newest first, only the user's when given: what the lists
    were read as before."""
    stmt = select(Page).where(Page.status != "resolved").order_by(Page.id.desc()).limit(limit)
    if user is not None:
        stmt = stmt.where(Page.assignee_id == user.id)
    return list(session.scalars(stmt).unique())


def _now_pages(html: str) -> str:
    start = html.index('<article id="now-pages"')
    return html[start:html.index("</article>", start)]


def test_home_open_pages_show_what_the_page_objects_showed(client, login_as, session,
                                                           make_user, monkeypatch):
    viewer, other = login_as("oncall"), make_user("oncall")
    due = utcnow() - timedelta(minutes=5)
    session.add_all(
        [Page(severity=("sev1", "sev2", "sev3")[i % 3], title=f"Mine {i}",
              assignee_id=viewer.id, due_at=due, incident_id=i if i % 2 else None,
              status=("triggered", "acknowledged")[i % 2]) for i in range(8)]
        + [Page(severity="sev1", title="Mine resolved", assignee_id=viewer.id, due_at=due,
                status="resolved"),
           Page(severity="sev2", title="Theirs", assignee_id=other.id, due_at=due),
           Page(severity="sev2", title="Nobody's", due_at=due)])
    session.commit()
    shown = _now_pages(client.get("/").get_data(as_text=True))
    monkeypatch.setattr(paging, "open_pages", _orm_open_pages)
    expected = _now_pages(client.get("/").get_data(as_text=True))
    assert shown == expected
    assert "Mine 7" in shown and "Mine 0" not in shown  # the newest five
    assert "Mine resolved" not in shown and "Theirs" not in shown and "Nobody" not in shown
    assert viewer.name in shown


def test_open_pages_with_and_without_a_user(session, make_user):
    viewer, other = make_user("oncall"), make_user("oncall")
    due = utcnow()
    session.add_all([Page(severity="sev2", title=f"p{i}", due_at=due,
                          assignee_id=(viewer.id, other.id, None)[i % 3],
                          status=("triggered", "resolved")[i % 4 == 3]) for i in range(12)])
    session.commit()
    for user, limit in ((viewer, 50), (viewer, 2), (None, 50), (None, 3)):
        rows = paging.open_pages(session=session, user=user, limit=limit)
        pages = _orm_open_pages(session=session, user=user, limit=limit)
        assert [(r.id, r.title, r.status, r.assignee_id, r.assignee and r.assignee.name)
                for r in rows] == [(p.id, p.title, p.status, p.assignee_id,
                                    p.assignee and p.assignee.name) for p in pages]


def test_incident_chat_finds_the_pages_itself(session):
    due = utcnow()
    mine = [Page(severity="sev1", title="a", due_at=due, incident_id=9001),
            Page(severity="sev1", title="b", due_at=due, incident_id=9001, status="resolved")]
    theirs = Page(severity="sev1", title="c", due_at=due, incident_id=9002)
    session.add_all([*mine, theirs])
    session.flush()
    session.add_all([ChatMessage(platform="slack", purpose="incident", incident_id=9001),
                     ChatMessage(platform="slack", purpose="page", page_id=mine[0].id),
                     ChatMessage(platform="slack", purpose="page", page_id=mine[1].id),
                     ChatMessage(platform="slack", purpose="page", page_id=theirs.id),
                     ChatMessage(platform="slack", purpose="incident", incident_id=9002)])
    session.commit()
    with counting(session.connection()) as seen:
        found = delivery.for_incident(session=session, incident_id=9001)
    handed = delivery.for_incident(session=session, incident_id=9001,
                                   page_ids=[p.id for p in mine])
    assert [m.id for m in found] == [m.id for m in handed]
    assert len(found) == 3 and len(seen) == 1
    session.add(ChatMessage(platform="slack", purpose="page", page_id=mine[1].id))
    session.commit()
    assert len(delivery.for_incident(session=session, incident_id=9001)) == 4


def test_a_request_reads_the_schedules_once_and_sees_its_own_changes(app, session, make_user,
                                                                     make_schedule):
    ann, bob = make_user("oncall"), make_user("oncall")
    schedule = make_schedule([ann], [bob], slug="panels-rota")
    session.commit()
    with app.test_request_context("/"):
        first = schedule_cache.structure(session=session, since=utcnow())
        with counting(session.connection()) as seen:
            again = schedule_cache.structure(session=session, since=utcnow())
        assert again is first and seen == []
        now = utcnow()
        session.add(Override(schedule_id=schedule.id, layer="primary", user=bob,
                             starts_at=now - timedelta(hours=1),
                             ends_at=now + timedelta(hours=1), reason="swap"))
        session.flush()
        changed = schedule_cache.structure(session=session, since=now)
        assert changed is not first
        assert [c.who.id for c in changed.covers(schedule.id, "primary", now, now)] == [bob.id]
        session.commit()
        session.execute(update(Schedule).where(Schedule.id == schedule.id)
                        .values(name="Renamed rota"))
        renamed = schedule_cache.structure(session=session, since=now)
        assert renamed.by_id(schedule.id).name == "Renamed rota"


def test_next_shift_skips_only_layers_the_person_cannot_hold(session, make_user,
                                                             make_schedule):
    ann, bob, cy = make_user("oncall"), make_user("oncall"), make_user("oncall")
    schedule = make_schedule([ann, bob], [cy], slug="panels-next")
    now = utcnow()
    session.add(Override(schedule_id=schedule.id, layer="secondary", user=ann,
                         starts_at=now + timedelta(days=2), ends_at=now + timedelta(days=3),
                         reason="cover"))
    session.commit()
    end = now + timedelta(days=28)
    found = schedule_cache.structure(session=session, since=now)
    for user in (ann, bob, cy):
        expected = None
        for layer in ("primary", "secondary"):
            shift = next((sh for sh in service._timeline(found, schedule.id, layer, now, end)
                          if any(who.id == user.id for who in sh.everyone)), None)
            if shift is not None and (expected is None or shift.starts_at < expected[1]):
                expected = (layer, shift.starts_at)
        got = service.next_shift_of(session=session, user_id=user.id, start=now, end=end)
        assert (got.layer, got.starts_at) == expected
