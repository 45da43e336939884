"""The suspect-change panel reads the jobs and the silence changes of its window in one
statement, with the rows, order and LIMIT of the two full reads it stands for."""
from __future__ import annotations

from datetime import timedelta

import pytest

from portal.incidents import suspects
from portal.oncall import silence_ledger
from portal.selfservice import service as selfservice
from tests.integration.incidents.test_suspects import (  # noqa: F401  (fixture)
    NOW,
    deploy,
    silence,
    world,
)
from tests.seeded_demo import counting

pytestmark = pytest.mark.integration

JOB_FIELDS = ("id", "template", "action", "tier", "params", "result", "plan", "status",
              "status_reason", "finished_at", "started_at", "created_at", "service_id")
LEDGER_FIELDS = ("silence_id", "matchers", "created_at", "created_by", "recreated_at",
                 "expired_at", "ends_at", "comment")


def _full(session, service_ids, *, since, until, limit):
    jobs = selfservice.changes_for_services(session=session, service_ids=service_ids,
                                            since=since, until=until, limit=limit)
    ledger = silence_ledger.changed_between(session=session, since=since, until=until,
                                            limit=limit)
    return ([tuple(getattr(j, f) for f in JOB_FIELDS) + (j.requested_by.name,
                                                         j.requested_by.email) for j in jobs],
            [tuple(getattr(e, f) for f in LEDGER_FIELDS) for e in ledger])


def _one(session, service_ids, *, since, until, limit):
    with counting(session.connection()) as seen:
        jobs, ledger = suspects._changes(session, service_ids, since=since, until=until,
                                         limit=limit)
    assert len(seen) == 1
    return ([tuple(getattr(j, f) for f in JOB_FIELDS) + (j.requested_by.name,
                                                         j.requested_by.email) for j in jobs],
            [tuple(getattr(e, f) for f in LEDGER_FIELDS) for e in ledger])


def test_one_statement_keeps_the_rows_order_and_limit_of_both_reads(session, world):  # noqa: F811
    for i, slug in enumerate(("order-s", "payment-s", "ledger-s", "unrelated-s", "order-s")):
        deploy(session, world, slug, tag=f"v{i}", ago=timedelta(minutes=10 + 7 * i),
               status="failed" if i == 2 else "succeeded")
    deploy(session, world, "order-s", tag="old", ago=timedelta(hours=30))
    for i, slug in enumerate(("payment-s", "unrelated-s", "order-s", "ledger-s")):
        silence(session, slug, ago=timedelta(minutes=5 + 9 * i), comment=f"silence {i}")
    ids = [s.id for slug, s in world["svc"].items() if slug != "unrelated-s"]
    since, until = NOW - timedelta(hours=6), NOW + timedelta(minutes=1)
    for limit in (200, 3, 1):
        expected = _full(session, ids, since=since, until=until, limit=limit)
        assert _one(session, ids, since=since, until=until, limit=limit) == expected
    full = _one(session, ids, since=since, until=until, limit=200)
    assert len(full[0]) == 4 and len(full[1]) == 4
    # No catalog entry: no job, the silences still.
    assert _one(session, [], since=since, until=until, limit=200) == ([], full[1])
    # A narrower window leaves out what changed before it.
    late = _one(session, ids, since=NOW - timedelta(minutes=20), until=until, limit=200)
    assert late == _full(session, ids, since=NOW - timedelta(minutes=20), until=until,
                         limit=200)
    assert len(late[0]) == 2 and len(late[1]) == 2


def test_the_panel_says_when_it_was_cut_short(session, world):  # noqa: F811
    for i in range(3):
        deploy(session, world, "order-s", tag=f"v{i}", ago=timedelta(minutes=10 + i))
    found = suspects.find(session=session, incident=world["incident"], now=NOW, limit=3)
    assert found.truncated and len(found.rows) == 3
    found = suspects.find(session=session, incident=world["incident"], now=NOW, limit=4)
    assert not found.truncated and [r.what.split(" ")[0] for r in found.rows] == [
        "v0", "v1", "v2"]
