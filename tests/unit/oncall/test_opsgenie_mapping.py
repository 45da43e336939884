"""Opsgenie's answers mapped into an ImportPlan: time restrictions as windows (across
midnight and across the week's end), daily/weekly/hourly rotations, `none` slots, end dates
in the middle of a shift, team participants, overrides, escalations and routing rules.

The fidelity check compares the portal's layered-rotation engine, fed with the plan, to the
fake Opsgenie's timeline, which expands the raw rotations on its own (dateutil rrule) — every
half hour for eight weeks across the spring daylight-saving change in Europe/Berlin."""
from datetime import UTC, datetime, time, timedelta

import pytest

from portal.oncall import layered
from portal.oncall.importing import opsgenie_rotations as rotations
from portal.oncall.importing.opsgenie_import import plan_from
from portal.oncall.importing.plan import PlanRotation, PlanStep, Window
from portal.oncall.rotation import Cover
from tests import opsgenie_account as og
from tests.fake_opsgenie import FakeOpsgenie

NOW = datetime(2027, 3, 1, tzinfo=UTC)
ALL_DAYS = tuple(range(7))


def plan_of(account: dict, now: datetime = NOW):
    return plan_from(users=account["users"], teams=account["teams"],
                     schedules=account["schedules"], overrides=account["overrides"],
                     escalations=account["escalations"], routing_rules=account["routing_rules"],
                     now=now)


def test_time_of_day_across_midnight_is_one_daily_window():
    assert rotations.windows({"type": "time-of-day", "restriction": {
        "startHour": 18, "startMin": 30, "endHour": 8, "endMin": 0}}) == (
        Window(ALL_DAYS, time(18, 30), time(8, 0)),)


def test_weekday_restrictions_group_days_with_the_same_hours():
    found = rotations.windows({"type": "weekday-and-time-of-day", "restrictions": [
        og._day(d, 8, 18) for d in og.WEEKDAYS] + [og._day("saturday", 22, 6, "sunday")]})
    assert found == (Window((0, 1, 2, 3, 4), time(8), time(18)), Window((5,), time(22), time(6)))


def test_a_span_over_days_and_the_weeks_end_is_cut_at_midnights():
    found = rotations.windows({"type": "weekday-and-time-of-day", "restrictions": [
        og._day("friday", 18, 8, "monday")]})
    assert set(found) == {Window((4,), time(18), time(0)), Window((5, 6), time(0), time(0)),
                          Window((0,), time(0), time(8))}


@pytest.mark.parametrize("restriction", [
    {"type": "weekday-and-time-of-day", "restrictions": [og._day("funday", 8, 18)]},
    {"type": "time-of-day", "restriction": {"startHour": 25, "endHour": 1}},
    {"type": "sometimes"}])
def test_unreadable_restrictions_leave_the_rotation_out_with_a_reason(restriction):
    notes = []
    raw = {"id": "r", "name": "Odd", "type": "daily", "startDate": "2027-01-04T07:00:00Z",
           "participants": [og._who("user", og.ALICE)], "timeRestriction": restriction}
    assert rotations.rotations(raw, number=1, time_zone="UTC", schedule_name="s", teams={},
                               notes=notes) == []
    assert notes and notes[0].reason.startswith("Not imported:")


@pytest.mark.parametrize("kind,length,unit", [("hourly", 12, "hourly"), ("daily", 2, "daily"),
                                              ("weekly", 1, "weekly")])
def test_rotation_types_map_to_frequency_and_interval(kind, length, unit):
    raw = {"id": "r", "name": "R", "type": kind, "length": length,
           "startDate": "2027-01-04T08:00:00+01:00",
           "participants": [og._who("user", og.ALICE), og._who("user", og.BOB)]}
    [rot] = rotations.rotations(raw, number=1, time_zone="Europe/Berlin", schedule_name="s",
                                teams={}, notes=[])
    assert (rot.frequency, rot.interval, rot.start) == (unit, length,
                                                       datetime(2027, 1, 4, 7, tzinfo=UTC))
    assert rot.participants == ((og.ALICE,), (og.BOB,)) and rot.until is None


def test_none_slots_split_the_rotation_so_the_hand_offs_stay():
    rot = PlanRotation(name="N", level=1, time_zone="Europe/Berlin",
                       start=datetime(2027, 3, 26, 17, tzinfo=UTC), frequency="daily",
                       interval=1, participants=(("a",), (), ("b",)))
    parts = rotations.without_gaps(rot)
    assert [(p.participants, p.interval, p.duration) for p in parts] == [
        ((("a",),), 3, timedelta(days=1)), ((("b",),), 3, timedelta(days=1))]
    # The third slot's first shift starts at 18:00 local after the change to summer time.
    assert parts[1].start == datetime(2027, 3, 28, 16, tzinfo=UTC)


def test_an_end_date_inside_a_shift_cuts_that_shift():
    rot = PlanRotation(name="N", level=1, time_zone="UTC", start=datetime(2027, 1, 1, tzinfo=UTC),
                       frequency="daily", interval=1, participants=(("a",), ("b",)))
    kept, cut = rotations.ended(rot, datetime(2027, 1, 4, 6, tzinfo=UTC))
    assert kept.until == datetime(2027, 1, 3, tzinfo=UTC)  # shifts of Jan 1-3 stay whole
    assert (cut.start, cut.duration, cut.until, cut.participants) == (
        datetime(2027, 1, 4, tzinfo=UTC), timedelta(hours=6),
        datetime(2027, 1, 4, tzinfo=UTC), (("b",),))
    [whole] = rotations.ended(rot, datetime(2027, 1, 4, tzinfo=UTC))  # on a hand-off
    assert whole.until == datetime(2027, 1, 3, tzinfo=UTC)
    assert rotations.ended(rot, datetime(2026, 12, 31, tzinfo=UTC)) == []


def test_the_sample_account_maps_with_reasons_for_what_does_not_fit():
    plan = plan_of(og.account())
    assert [u.email for u in plan.users] == [f"{n}@example.com" for n in og.PEOPLE.values()]
    assert plan.users[4].time_zone == "America/New_York"
    assert {t.name: t.member_ids for t in plan.teams} == {
        "sre": (og.ALICE, og.BOB, og.CAROL), "payments": (og.DAVE, og.ERIN)}
    assert [s.name for s in plan.schedules] == ["sre_schedule", "payments_schedule"]
    sre = plan.schedules[0]
    assert sre.team_id == og.SRE and sre.time_zone == "Europe/Berlin"
    assert {r.level for r in sre.rotations} == {rotations.LEVEL}  # Opsgenie's add up
    nights = [r for r in sre.rotations if r.name.startswith("Nights")]
    # carol, dave, nobody, team payments; the night of the end date (dave's) is cut short
    assert [(r.name, r.participants) for r in nights] == [
        ("Nights (slot 1 of 4)", ((og.CAROL,),)), ("Nights (slot 2 of 4)", ((og.DAVE,),)),
        ("Nights (slot 2 of 4) (last shift)", ((og.DAVE,),)),
        ("Nights (slot 4 of 4)", ((og.DAVE, og.ERIN),))]
    assert nights[2].start + nights[2].duration == datetime(2027, 4, 20, tzinfo=UTC)
    reasons = {(n.kind, n.name): n.reason for n in plan.unmapped}
    assert "disabled" in reasons[("schedule", "old_schedule")]
    assert "2 members on call together" in reasons[
        ("rotation participant", "sre_schedule / Nights: team payments")]
    assert "some rotations only" in reasons[("override", "sre_schedule: override by "
                                             "erin@example.com")]


def test_overrides_keep_people_and_drop_covers_that_are_over():
    plan = plan_of(og.account(), now=datetime(2027, 4, 1, tzinfo=UTC))
    assert [(o.user_ids, o.starts_at) for o in plan.schedules[0].overrides] == [
        ((og.ERIN,), datetime(2027, 4, 5, 20, tzinfo=UTC))]


def test_escalation_rules_become_waits_between_absolute_delays():
    plan = plan_of(og.account())
    chains = {c.external_id: c for c in plan.chains}
    assert chains[og.ESC_SRE].steps == (
        PlanStep("notify_schedule", (og.OPS,)), PlanStep("wait", minutes=5),
        PlanStep("notify_users", (og.ALICE,)), PlanStep("wait", minutes=10),
        PlanStep("notify_users", (og.ALICE,)),  # the admins of team sre
        PlanStep("wait", minutes=10), PlanStep("repeat", count=2))
    assert chains[og.ESC_PAY].steps == (PlanStep("notify_group", (og.PAYMENTS,)),)
    reasons = [n.reason for n in plan.unmapped if n.kind == "escalation rule"]
    assert any("acknowledged" in r for r in reasons)  # if-not-closed
    assert any("next on-call person" in r for r in reasons)
    assert any("escalation (sre_escalation)" in r for r in reasons)


def test_routing_rules_become_label_matchers_in_order():
    plan = plan_of(og.account())
    assert [(r.integration, r.matcher, r.chain_id) for r in plan.routes] == [
        ("sre", '{service="api", priority="P1"}', og.ESC_SRE),
        ("sre", "", "schedule:" + og.OPS),
        ("payments", '{env="prod"}', og.ESC_PAY),
        ("payments", '{region=~"eu\\\\-.*"}', og.ESC_PAY),
        ("payments", "", og.ESC_PAY)]
    assert [s.kind for s in {c.external_id: c for c in plan.chains}[
        "schedule:" + og.OPS].steps] == ["notify_schedule"]
    left_out = {n.name: n.reason for n in plan.unmapped if n.kind == "routing rule"}
    assert "certain times" in left_out["sre: Office hours"]
    assert "message" in left_out["sre: Disk noise"]


def _expected(timeline: dict, at: datetime, teams: dict) -> set[str]:
    people = set()
    for rot in timeline["finalTimeline"]["rotations"]:
        for p in rot["periods"]:
            if datetime.fromisoformat(p["startDate"].replace("Z", "+00:00")) <= at < \
                    datetime.fromisoformat(p["endDate"].replace("Z", "+00:00")):
                who = p["recipient"]
                people |= set(teams[who["id"]]) if who["type"] == "team" else {who["id"]}
    return people


def test_the_plan_puts_the_same_people_on_call_as_opsgenies_timeline():
    account = og.account()
    plan = plan_of(account)
    teams = {t.external_id: t.member_ids for t in plan.teams}
    start, weeks = datetime(2027, 3, 8, tzinfo=UTC), 8
    fake = FakeOpsgenie(account)  # not started: only its timeline arithmetic is used
    for sched in plan.schedules:
        expected = fake.timeline(sched.external_id, start, start + timedelta(weeks=weeks))
        layers = [layered.Layer(r.level, r.time_zone, r.start, r.frequency, r.interval,
                                r.participants, r.duration, r.until, r.windows)
                  for r in sched.rotations]
        covers = [Cover(u, o.starts_at, o.ends_at) for o in sched.overrides for u in o.user_ids]
        shifts = layered.timeline(layers, covers, start, start + timedelta(weeks=weeks))
        at, seen = start, set()
        while at < start + timedelta(weeks=weeks):
            [shift] = [s for s in shifts if s.starts_at <= at < s.ends_at]
            want = _expected(expected, at, teams)
            assert set(shift.everyone) == want, (sched.name, at)
            seen.add(frozenset(want))
            at += timedelta(minutes=30)
        if sched.name == "sre_schedule":  # the sample really exercises gaps and overlaps
            assert frozenset() in seen and frozenset({og.ALICE, og.DAVE}) in seen
