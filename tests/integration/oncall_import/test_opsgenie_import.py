"""Importing from Opsgenie's REST API (the local fake of tests/fake_opsgenie.py, which checks
the documented requests): the imported schedules name, hour by hour for eight weeks across
the March daylight-saving change in Europe/Berlin, the same people as the fake's own
finalTimeline (expanded independently with dateutil's rrule); a second run changes
nothing."""
import secrets
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from portal.oncall import service
from portal.oncall.importing import mappings
from portal.oncall.importing.apply import apply_plan
from portal.oncall.importing.opsgenie_import import read_opsgenie
from portal.oncall.models import Override, Schedule
from portal.oncall.rotation_models import LayeredRotation
from portal.security.outbound import get_json
from tests import opsgenie_account as og
from tests.fake_opsgenie import FakeOpsgenie

LOOPBACK = ("127.0.0.1",)
NOW = datetime(2027, 3, 1, tzinfo=UTC)  # the import runs a week before the checked window
START, WEEKS = datetime(2027, 3, 8, tzinfo=UTC), 8


@pytest.fixture
def fake():
    with FakeOpsgenie(og.account(secrets.token_hex(3)), page_size=2) as server:
        yield server


def _import(session, fake, actor):
    plan = read_opsgenie(base_url=fake.url, api_key=fake.key, allowlist=LOOPBACK, now=NOW)
    return plan, apply_plan(session=session, plan=plan, actor=actor)


def _final_timeline(fake, schedule_id: str) -> list[tuple[datetime, datetime, set[str]]]:
    """Opsgenie's own answer, as (from, to, e-mails); a team slot means its members."""
    status, body = get_json(
        f"{fake.url}/v2/schedules/{schedule_id}/timeline?identifierType=id&interval={WEEKS}"
        f"&intervalUnit=weeks&date={START:%Y-%m-%dT%H:%M:%SZ}",
        headers={"Authorization": f"GenieKey {fake.key}"}, timeout=10, allowlist=LOOPBACK)
    assert status == 200 and fake.refused == []
    emails = {u["id"]: u["username"] for u in fake.account["users"]}
    teams = {t["id"]: {emails[m["user"]["id"]] for m in t["members"]}
             for t in fake.account["teams"]}
    return [(datetime.fromisoformat(p["startDate"].replace("Z", "+00:00")),
             datetime.fromisoformat(p["endDate"].replace("Z", "+00:00")),
             teams[p["recipient"]["id"]] if p["recipient"]["type"] == "team"
             else {emails[p["recipient"]["id"]]})
            for rot in body["data"]["finalTimeline"]["rotations"] for p in rot["periods"]]


def test_imported_schedules_page_whom_opsgenie_would_hour_by_hour(session, fake, make_user):
    plan, result = _import(session, fake, make_user("admin"))
    assert result.created["users"] == 5 and result.created["schedules"] == 2
    # Every hour of the Berlin schedule; the UTC one (a hand-off each fortnight) every 5
    # hours, which still lands on both sides of each hand-off.
    for external_id, step in ((og.OPS, 1), (og.PAY_SCHED, 5)):
        schedule = session.get(Schedule, mappings.find(
            session=session, source="opsgenie", kind="schedule", external_id=external_id))
        periods = _final_timeline(fake, external_id)
        hour, seen = START, set()
        while hour < START + timedelta(weeks=WEEKS):
            expected = set().union(*(who for a, b, who in periods if a <= hour < b))
            shift = service.on_call(session=session, schedule=schedule, layer="primary",
                                    at=hour)
            actual = {u.email for u in shift.everyone} if shift else set()
            assert actual == expected, f"{schedule.name} at {hour:%Y-%m-%d %H:%M}Z"
            seen.add(frozenset(actual))
            hour += timedelta(hours=step)
        assert len(seen) >= (8 if step == 1 else 2)  # people alone, together, and gaps
    # Business hours hand off at 08:00 Berlin: 07:00 UTC before the change, 06:00 after.
    sre = session.get(Schedule, mappings.find(session=session, source="opsgenie",
                                              kind="schedule", external_id=og.OPS))
    for day, hand_off in ((datetime(2027, 3, 22, tzinfo=UTC), 7),
                          (datetime(2027, 3, 29, tzinfo=UTC), 6)):
        before = service.on_call(session=session, schedule=sre, layer="primary",
                                 at=day.replace(hour=hand_off - 1, minute=30))
        after = service.on_call(session=session, schedule=sre, layer="primary",
                                at=day.replace(hour=hand_off, minute=30))
        assert before is None or before.everyone != after.everyone
        assert after is not None and after.source in ("rotation", "override")


def test_a_second_import_changes_nothing(session, fake, make_user):
    admin = make_user("admin")
    plan, first = _import(session, fake, admin)
    rows = session.scalar(select(func.count()).select_from(LayeredRotation))
    covers = session.scalar(select(func.count()).select_from(Override))
    _, second = _import(session, fake, admin)
    assert first.total_created > 0
    assert (second.total_created, second.total_updated) == (0, 0)
    assert second.unchanged["rotations"] == sum(len(s.rotations) for s in plan.schedules)
    assert session.scalar(select(func.count()).select_from(LayeredRotation)) == rows
    assert session.scalar(select(func.count()).select_from(Override)) == covers
