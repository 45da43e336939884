"""The paging engine with a frozen clock: the escalation timeline, ack, resolve,
Sev4 held until the next business morning, gaps, and the incident_opened contract."""
from datetime import UTC, date, datetime, timedelta

import pytest

from portal import events
from portal.oncall import paging
from portal.oncall.service import OncallError

UTC = UTC
T0 = datetime(2026, 11, 18, 3, 0, tzinfo=UTC)  # a Wednesday night


@pytest.fixture
def page_events():
    seen = []

    def receiver(sender, **kw):
        seen.append((kw["kind"], kw["incident_id"], kw["user_email"], kw["at"]))
    events.page_event.connect(receiver)
    yield seen
    events.page_event.disconnect(receiver)


@pytest.fixture
def setup(session, make_user, make_schedule, seed_policies, team_with_service):
    team, svc = team_with_service
    primary, secondary = make_user("oncall"), make_user("oncall")
    make_schedule([primary], [secondary], slug="team-sched", team=team)
    return {"primary": primary, "secondary": secondary, "svc": svc, **seed_policies}


def kinds(page):
    return [(e.kind, e.user.email if e.user else None, e.at) for e in page.events]


def test_sev1_escalates_primary_secondary_manager_vp_on_the_seed_timeline(
        session, setup, page_events):
    page = paging.start_paging(session=session, incident_id=41, severity="sev1",
                               title="Order API down", service_slugs=[setup["svc"].slug], now=T0)
    assert page.schedule.slug == "team-sched" and page.assignee == setup["primary"]
    for minutes in (5, 14):  # nothing is due before the secondary step at 15 min
        assert paging.escalate_due(session=session, now=T0 + timedelta(minutes=minutes)) == []
    for minutes in (15, 30, 60, 90):
        paging.escalate_due(session=session, now=T0 + timedelta(minutes=minutes))
    m = lambda n: T0 + timedelta(minutes=n)  # noqa: E731
    assert kinds(page) == [
        ("sent", setup["primary"].email, T0), ("escalated", setup["secondary"].email, m(15)),
        ("escalated", setup["manager"].email, m(30)), ("escalated", setup["vp"].email, m(60))]
    assert page.assignee == setup["vp"] and page.step == 4
    assert [k for k, *_ in page_events] == ["sent", "escalated", "escalated", "escalated"]
    assert {inc for _, inc, *_ in page_events} == {41}


def test_ack_stops_escalation_and_records_time_to_ack(session, setup, page_events):
    page = paging.start_paging(session=session, incident_id=42, severity="sev2", title="Slow",
                               service_slugs=[setup["svc"].slug], now=T0)
    paging.ack(session=session, page=page, user=setup["primary"], now=T0 + timedelta(minutes=7))
    assert paging.escalate_due(session=session, now=T0 + timedelta(hours=2)) == []
    assert page.status == "acked" and paging.time_to_ack(page) == timedelta(minutes=7)
    with pytest.raises(OncallError, match="already acked"):
        paging.ack(session=session, page=page, user=setup["primary"], now=T0)
    paging.resolve(session=session, page=page, user=setup["primary"],
                   now=T0 + timedelta(minutes=40))
    assert [k for k, *_ in page_events] == ["sent", "acked", "resolved"]
    assert page.resolved_at == T0 + timedelta(minutes=40)


def test_missed_ticks_escalate_through_every_overdue_step(session, setup):
    page = paging.start_paging(session=session, incident_id=43, severity="sev2", title="x",
                               service_slugs=[setup["svc"].slug], now=T0)
    paging.escalate_due(session=session, now=T0 + timedelta(minutes=75))
    assert [k for k, *_ in kinds(page)] == ["sent", "escalated", "escalated"]
    assert page.assignee == setup["manager"]  # the team lead step


def test_sev4_waits_for_the_next_business_morning(session, setup):
    friday_night = datetime(2026, 11, 20, 22, 0, tzinfo=UTC)
    page = paging.start_paging(session=session, incident_id=44, severity="sev4",
                               title="Typo", service_slugs=[setup["svc"].slug], now=friday_night)
    assert page.events == [] and page.assignee is None
    monday_nine = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)  # 09:00 CET
    assert page.due_at == monday_nine
    assert paging.escalate_due(session=session, now=monday_nine - timedelta(seconds=1)) == []
    paging.escalate_due(session=session, now=monday_nine)
    assert kinds(page) == [("sent", setup["primary"].email, monday_nine)]


def test_a_gap_in_the_secondary_layer_is_recorded_and_skipped(
        session, make_user, make_schedule, seed_policies, team_with_service):
    team, svc = team_with_service
    primary = make_user("oncall")
    make_schedule([primary], [], slug="gappy", team=team)
    page = paging.start_paging(session=session, incident_id=45, severity="sev1", title="x",
                               service_slugs=[svc.slug], now=T0)
    paging.escalate_due(session=session, now=T0 + timedelta(minutes=30))
    assert [k for k, *_ in kinds(page)] == ["sent", "gap", "escalated"]
    assert page.assignee == seed_policies["manager"]


def test_unknown_service_falls_back_to_the_default_schedule(
        session, make_user, make_schedule, seed_policies):
    fallback = make_user("oncall")
    make_schedule([fallback], slug="fallback", default=True)
    page = paging.start_paging(session=session, incident_id=46, severity="sev3", title="x",
                               service_slugs=["no-such-service"], now=T0)
    assert page.schedule.slug == "fallback" and page.assignee == fallback


def test_incident_opened_signal_starts_paging_once(app, session, setup):
    for _ in range(2):  # a repeated signal does not page twice
        events.incident_opened.send(session=session, incident_id=47, severity="sev1",
                                    title="Checkout failing", service_slugs=[setup["svc"].slug])
    page = paging.open_page_for_incident(session=session, incident_id=47)
    assert page.assignee == setup["primary"] and len(page.events) == 1


def test_rotation_start_in_the_future_means_nobody_is_paged(
        session, make_user, make_schedule, seed_policies, team_with_service):
    team, svc = team_with_service
    make_schedule([make_user("oncall")], slug="later", team=team, start=date(2027, 1, 4))
    page = paging.start_paging(session=session, incident_id=48, severity="sev3", title="x",
                               service_slugs=[svc.slug], now=T0)
    assert [k for k, *_ in kinds(page)] == ["gap"] and page.assignee is None
