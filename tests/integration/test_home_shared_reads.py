"""The home reads its open incidents and its jobs once per request and shares them between
the "needs you now" sections and the panels below: each list must still hold what its own
query used to return, however many other rows the shared statement reads."""
from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from portal.db import utcnow
from portal.home import now as home_now
from portal.incidents.models import Incident, Postmortem
from portal.selfservice.models import Job
from tests.seeded_demo import counting

NOW = utcnow()


def _incident(session, title, minutes_ago, **fields):
    incident = Incident(title=title, severity="sev3", opened_at=NOW - timedelta(
        minutes=minutes_ago), **({"status": "acknowledged"} | fields))
    session.add(incident)
    return incident


@pytest.fixture
def incidents(session, make_user):
    """25 open incidents; the manager commands the oldest; one resolved incident has an
    overdue postmortem, another a completed one."""
    manager = make_user("manager", "oncall")
    opened = [_incident(session, f"open {i}", i) for i in range(24)]
    opened.append(_incident(session, "commanded long ago", 500,
                            roles={"commander": manager.email}))
    late = _incident(session, "resolved, postmortem late", 900, status="resolved",
                     resolved_at=NOW - timedelta(days=3))
    done = _incident(session, "resolved, postmortem done", 950, status="resolved",
                     resolved_at=NOW - timedelta(days=3))
    session.flush()
    session.add(Postmortem(incident_id=late.id, required=True, due_at=NOW - timedelta(days=1)))
    session.add(Postmortem(incident_id=done.id, required=True, due_at=NOW - timedelta(days=1),
                           completed_at=NOW - timedelta(days=2)))
    session.commit()
    return manager, opened


def test_one_statement_gives_newest_total_roles_and_overdue_postmortems(app, session,
                                                                       incidents):
    manager, opened = incidents
    with counting(session.connection()) as seen:
        shared = home_now.open_incidents(session=session, user=manager)
    assert len(seen) == 1
    assert [i.title for i in shared.newest] == [f"open {i}" for i in range(20)]
    assert shared.total == 25
    assert [(i.title, roles) for i, roles in shared.with_role] == [
        ("commanded long ago", ["Incident commander"])]
    with counting(session.connection()) as seen:  # the panel shows each postmortem's incident title
        assert [pm.incident.title for pm in shared.overdue_postmortems] == [
            "resolved, postmortem late"]
    assert seen == []


def test_overdue_postmortems_are_a_managers_only(session, incidents, make_user):
    oncall = make_user("oncall")
    shared = home_now._read_open_incidents(session, oncall)
    assert shared.overdue_postmortems == [] and shared.with_role == []
    assert shared.total == 25


def _job(session, user, status, minutes_ago, **fields):
    job = Job(id=uuid.uuid4(), template="sandbox", action="create", tier="dev",
              target=f"t-{uuid.uuid4().hex[:6]}", gate=fields.pop("gate", "confirm"),
              status=status, requested_by_id=user.id,
              created_at=NOW - timedelta(minutes=minutes_ago), **fields)
    session.add(job)
    return job


def test_one_statement_gives_recent_active_jobs_and_approvals(session, make_user):
    me, other = make_user("developer", "manager"), make_user("developer")
    for i in range(7):
        _job(session, me, "succeeded", 10 + i)
    running = _job(session, me, "running", 300)
    failed = _job(session, me, "failed", 400)
    _job(session, me, "failed", 60 * 24 * 10)  # failed too long ago to ask for attention
    _job(session, me, "awaiting_approval", 5, gate="approval")  # never my own approval
    waiting = [_job(session, other, "awaiting_approval", m, gate="approval",
                    planned_at=NOW - timedelta(minutes=m)) for m in (20, 30)]
    session.commit()
    with counting(session.connection()) as seen:
        jobs = home_now._read_jobs(session, me, NOW)
    assert len(seen) == 1
    assert [j.created_at for j in jobs.recent] == sorted(
        (j.created_at for j in jobs.recent), reverse=True)
    assert len(jobs.recent) == home_now.LIMIT and jobs.recent[0].status == "awaiting_approval"
    assert [j.id for j in jobs.active] == [jobs.recent[0].id, running.id, failed.id]
    assert [j.id for j in jobs.approvals] == [waiting[1].id, waiting[0].id]


def test_each_request_reads_afresh(client, session, login_as):
    """The memo lives as long as one request, though the app context serves several here."""
    login_as("manager", "oncall")
    assert "first of the day" not in client.get("/").get_data(as_text=True)
    _incident(session, "first of the day", 1)
    session.commit()
    page = client.get("/").get_data(as_text=True)
    assert page.count("first of the day") == 2  # the manager's list and the incidents panel
