"""Two people writing notes at once, on the real PostgreSQL server, from threads.

Each thread has its own connection and commits for real, like two browser sessions. What
must hold: no note is lost, and a watcher polling with `after_id` sees every note, which
needs timeline ids to follow commit order (the incident row lock of portal.incidents.timeline).
"""
from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import create_engine, delete, func, select, text
from sqlalchemy.orm import sessionmaker

from portal import models  # noqa: F401  (maps every table)
from portal.incidents import timeline
from portal.incidents.models import Incident, TimelineEntry

pytestmark = pytest.mark.integration


@pytest.fixture
def factory(database_url):
    engine = create_engine(database_url, pool_size=6)
    yield sessionmaker(bind=engine, expire_on_commit=False)
    engine.dispose()


@pytest.fixture
def incident_id(factory):
    with factory() as s:
        incident = Incident(title="concurrency", severity="sev2")
        s.add(incident)
        s.commit()
        iid = incident.id
    yield iid
    with factory() as s:
        s.execute(delete(Incident).where(Incident.id == iid))
        s.commit()


def wait_until_blocked_on_lock(factory, pid: int) -> None:
    """Wait (bounded) until backend `pid` waits for a row lock: proof the writer queues."""
    with factory() as s:
        for _ in range(200):
            state = s.execute(text("SELECT wait_event_type FROM pg_stat_activity WHERE pid = :p"),
                              {"p": pid}).scalar()
            if state == "Lock":
                return
            s.rollback()
            time.sleep(0.05)
    raise AssertionError("the second writer never waited for the incident lock")


@pytest.fixture
def sessions(factory, incident_id):
    """Three independent sessions, closed (rolled back) even when the test fails."""
    opened = [factory() for _ in range(3)]
    yield opened
    for s in opened:
        s.close()


def test_second_writer_waits_so_ids_follow_commit_order(factory, sessions, incident_id):
    first, second, watcher = sessions
    start = timeline.latest_id(session=watcher, incident_id=incident_id)
    a = timeline.add_note(session=first, incident_id=incident_id, body="A", actor_email="a@x")
    pid = second.execute(text("SELECT pg_backend_pid()")).scalar()
    result = {}

    def write_b():
        result["b"] = timeline.add_note(session=second, incident_id=incident_id, body="B",
                                        actor_email="b@x")
        second.commit()
    thread = threading.Thread(target=write_b, daemon=True)
    thread.start()
    wait_until_blocked_on_lock(factory, pid)
    watcher.rollback()
    assert timeline.poll(session=watcher, incident_id=incident_id, after_id=start).entries == []
    first.commit()
    thread.join(10)
    b = result["b"]
    assert a.id < b.id
    watcher.rollback()
    seen_after_a = timeline.poll(session=watcher, incident_id=incident_id, after_id=a.id)
    assert [e.id for e in seen_after_a.entries] == [b.id]


def test_two_sessions_adding_notes_at_once_lose_nothing_and_watchers_miss_nothing(
        factory, incident_id):
    per_writer, barrier, done = 40, threading.Barrier(2), threading.Event()
    seen: list[int] = []

    def writer(name):
        with factory() as s:
            barrier.wait()
            for n in range(per_writer):
                timeline.add_note(session=s, incident_id=incident_id, body=f"{name} {n}",
                                  actor_email=f"{name}@x")
                s.commit()

    def watch():
        after = 0
        with factory() as s:
            while True:
                finished = done.is_set()
                polled = timeline.poll(session=s, incident_id=incident_id, after_id=after)
                s.rollback()
                seen.extend(e.id for e in polled.entries if e.kind == "note")
                after = polled.next_after_id
                if finished and not polled.entries:
                    return
    watcher = threading.Thread(target=watch)
    writers = [threading.Thread(target=writer, args=(n,)) for n in ("ann", "bob")]
    watcher.start()
    for t in writers:
        t.start()
    for t in writers:
        t.join(60)
    done.set()
    watcher.join(60)
    with factory() as s:
        stored = list(s.scalars(select(TimelineEntry.id).where(
            TimelineEntry.incident_id == incident_id, TimelineEntry.kind == "note")
            .order_by(TimelineEntry.id)))
        authors = dict(s.execute(select(TimelineEntry.actor_email, func.count()).where(
            TimelineEntry.incident_id == incident_id).group_by(TimelineEntry.actor_email)).all())
    assert authors == {"ann@x": per_writer, "bob@x": per_writer}
    assert seen == stored  # every note seen once, in order, by a watcher polling throughout
