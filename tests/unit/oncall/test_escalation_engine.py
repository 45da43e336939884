"""The escalation step kinds in the paging engine with a frozen clock: waits, several people,
a team, a whole schedule, repeats and their bound, the count-within-window condition,
important notifications, routes choosing a chain, and the rules a list of steps obeys."""
from datetime import UTC, datetime, timedelta

import pytest

from portal.auth.oidc_models import TeamMembership
from portal.oncall import demo, escalation, notify, paging, service
from portal.oncall.escalation import StepSpec
from portal.oncall.models import ReceivedAlert
from portal.oncall.service import OncallError

T0 = datetime(2026, 11, 18, 3, 0, tzinfo=UTC)  # a Wednesday night
CHANNELS = notify.Channels("k" * 32, "https://portal.example", "https://hooks.example/x")


def m(n):
    return T0 + timedelta(minutes=n)


@pytest.fixture
def people(session, make_user, make_schedule, seed_policies, team_with_service):
    team, svc = team_with_service
    primary, secondary = make_user("oncall"), make_user("oncall")
    schedule = make_schedule([primary], [secondary], slug="esc-sched", team=team)
    return {"primary": primary, "secondary": secondary, "svc": svc, "team": team,
            "schedule": schedule, **seed_policies}


def chain_of(session, name, *steps, matcher=None):
    chain = escalation.set_chain(session=session, chain=None, name=name, description="",
                                 steps=list(steps))
    if matcher:
        escalation.add_route(session=session, matcher=matcher, chain=chain)
    return chain


def start(session, people, labels, incident_id=901, now=T0):
    return paging.start_paging(session=session, incident_id=incident_id, severity="sev2",
                               title="Orders failing", service_slugs=[people["svc"].slug],
                               channels=CHANNELS, now=now, alert_labels=labels)


def notified(session, page):
    return [(n.user.email, n.payload["important"]) for n in
            notify.for_page(session=session, page=page)]


def timeline(page):
    return [(e.kind, e.at) for e in page.events]


def test_a_route_chooses_its_chain_and_waits_count_from_the_step_before(session, people):
    chain = chain_of(session, "orders",
                     StepSpec("notify_users", users=(people["manager"], people["vp"]),
                              important=True),
                     StepSpec("wait", minutes=5), StepSpec("page", target="secondary"),
                     matcher='{service="orders", env!="dev"}')
    page = start(session, people, {"service": "orders", "alertname": "Down"})
    assert page.route_id is not None and page.chain_id == chain.id
    assert {e for e, _ in notified(session, page)} == {people["manager"].email,
                                                       people["vp"].email}
    assert all(important for _, important in notified(session, page))
    assert paging.escalate_due(session=session, channels=CHANNELS, now=m(4)) == []
    assert paging.escalate_due(session=session, channels=CHANNELS, now=m(5)) == [page]
    assert timeline(page) == [("sent", T0), ("escalated", m(5))]
    assert page.assignee == people["secondary"]
    assert notified(session, page)[-1] == (people["secondary"].email, False)


def test_an_alert_no_route_selects_pages_with_the_severity_policy(session, people):
    chain_of(session, "orders", StepSpec("notify_users", users=(people["vp"],)),
             matcher='{service="orders", env!="dev"}')
    page = start(session, people, {"service": "orders", "env": "dev"})
    assert page.chain_id is None and page.assignee == people["primary"]  # Sev2: primary


def test_notify_group_pages_every_active_team_member(session, people, make_user):
    members = [make_user("developer"), make_user("developer")]
    gone = make_user("developer")
    gone.is_active = False
    session.add_all(TeamMembership(user_id=u.id, team_slug=people["team"].slug)
                    for u in [*members, gone])
    chain_of(session, "team", StepSpec("notify_group", team=people["team"]),
             matcher='{team="t1"}')
    page = start(session, people, {"team": "t1"})
    assert sorted(e for e, _ in notified(session, page)) == sorted(u.email for u in members)


def test_notify_schedule_pages_everyone_on_call_in_every_layer(session, people):
    chain_of(session, "all", StepSpec("notify_schedule", important=True),
             matcher='{team="t2"}')
    page = start(session, people, {"team": "t2"})
    assert sorted(notified(session, page)) == sorted(
        [(people["primary"].email, True), (people["secondary"].email, True)])


def test_repeat_runs_the_chain_again_a_bounded_number_of_times(session, people):
    chain_of(session, "loop", StepSpec("page", target="primary"), StepSpec("wait", minutes=10),
             StepSpec("repeat", count=2), StepSpec("notify_users", users=(people["vp"],)),
             matcher='{team="t3"}')
    page = start(session, people, {"team": "t3"})
    for minutes in range(5, 65, 5):  # a tick every five minutes for an hour
        paging.escalate_due(session=session, channels=CHANNELS, now=m(minutes))
    primary = people["primary"].email
    assert [e for e, _ in notified(session, page)] == [primary, primary, primary,
                                                      people["vp"].email]
    assert [(k, at) for k, at in timeline(page)] == [
        ("sent", T0), ("repeated", m(10)), ("escalated", m(10)), ("repeated", m(20)),
        ("escalated", m(20)), ("escalated", m(30))]
    assert (page.cycle, page.step) == (2, 4)


def test_a_missed_tick_runs_every_overdue_step_on_its_schedule(session, people):
    chain_of(session, "late", StepSpec("page", target="primary"), StepSpec("wait", minutes=5),
             StepSpec("page", target="secondary"), StepSpec("wait", minutes=10),
             StepSpec("notify_users", users=(people["vp"],)), StepSpec("wait", minutes=60),
             StepSpec("notify_users", users=(people["manager"],)), matcher='{team="t4"}')
    page = start(session, people, {"team": "t4"})
    paging.escalate_due(session=session, channels=CHANNELS, now=m(17))  # 5 and 15 were due
    assert [k for k, _ in timeline(page)] == ["sent", "escalated", "escalated"]
    assert page.step_at == m(15)  # the next wait counts from when the step was due
    assert paging.escalate_due(session=session, channels=CHANNELS, now=m(74)) == []
    assert paging.escalate_due(session=session, channels=CHANNELS, now=m(75)) == [page]


def alert(session, fingerprint, labels, started):
    session.add(ReceivedAlert(fingerprint=fingerprint, status="firing", labels=labels,
                              annotations={}, starts_at=started, last_received_at=started))
    session.flush()


def test_count_condition_holds_the_page_until_enough_alerts_fire_in_the_window(
        session, people):
    chain_of(session, "storm", StepSpec("notify_if_count", count=3, minutes=10),
             StepSpec("notify_schedule"), StepSpec("wait", minutes=5),
             StepSpec("notify_users", users=(people["vp"],)), matcher='{cluster="db-east"}')
    alert(session, "a1", {"cluster": "db-east", "alertname": "Lag"}, m(-30))  # too early
    alert(session, "a2", {"cluster": "db-east", "alertname": "Lag"}, m(-1))
    alert(session, "a3", {"cluster": "db-west", "alertname": "Lag"}, m(0))  # not the group
    page = start(session, people, {"cluster": "db-east", "alertname": "Lag"})
    assert timeline(page) == [("held", T0)] and notified(session, page) == []
    alert(session, "a4", {"cluster": "db-east", "alertname": "Conn"}, m(3))
    assert paging.escalate_due(session=session, channels=CHANNELS, now=m(4)) == []
    alert(session, "a5", {"cluster": "db-east", "alertname": "Disk"}, m(6))  # a2, a4, a5
    paging.escalate_due(session=session, channels=CHANNELS, now=m(7))
    assert timeline(page) == [("held", T0), ("sent", m(7))] and page.held_since is None
    paging.escalate_due(session=session, channels=CHANNELS, now=m(11))
    assert len(page.events) == 2  # the wait counts from when the condition opened (7)
    paging.escalate_due(session=session, channels=CHANNELS, now=m(12))
    assert page.assignee == people["vp"]


def test_the_window_slides_so_old_alerts_stop_counting(session, people):
    chain_of(session, "storm", StepSpec("notify_if_count", count=2, minutes=5),
             StepSpec("notify_schedule"), matcher='{cluster="c9"}')
    alert(session, "b1", {"cluster": "c9"}, m(-4))
    page = start(session, people, {"cluster": "c9"})
    assert [k for k, _ in timeline(page)] == ["held"]
    alert(session, "b2", {"cluster": "c9"}, m(2))  # b1 left the window at minute 1
    assert paging.escalate_due(session=session, channels=CHANNELS, now=m(3)) == []
    alert(session, "b3", {"cluster": "c9"}, m(4))
    assert paging.escalate_due(session=session, channels=CHANNELS, now=m(4)) == [page]


def test_a_page_declared_by_hand_passes_the_count_condition(session, people):
    escalation.set_policy_steps(
        session=session, severity="sev3", description="", ack_minutes=60,
        next_business_day=False, steps=[StepSpec("page", target="primary"),
                                        StepSpec("notify_if_count", count=5, minutes=10),
                                        StepSpec("notify_users", users=(people["vp"],))])
    page = paging.start_paging(session=session, incident_id=950, severity="sev3", title="x",
                               service_slugs=[people["svc"].slug], now=T0)
    assert [k for k, _ in timeline(page)] == ["sent", "escalated"]


def test_without_a_route_the_group_is_the_alerts_of_the_same_service(session, people):
    escalation.set_policy_steps(
        session=session, severity="sev3", description="", ack_minutes=60,
        next_business_day=False, steps=[StepSpec("page", target="primary"),
                                        StepSpec("notify_if_count", count=2, minutes=10),
                                        StepSpec("notify_users", users=(people["vp"],))])
    alert(session, "s1", {"service": "orders"}, m(-2))
    alert(session, "s2", {"service": "billing"}, m(-1))
    page = paging.start_paging(session=session, incident_id=951, severity="sev3", title="x",
                               service_slugs=[people["svc"].slug], now=T0,
                               alert_labels={"service": "orders"})
    assert [k for k, _ in timeline(page)] == ["sent", "held"]
    alert(session, "s3", {"service": "orders"}, m(1))
    paging.escalate_due(session=session, now=m(1))
    assert page.assignee == people["vp"]


def test_ack_stops_a_held_or_repeating_page(session, people):
    chain_of(session, "loop", StepSpec("page", target="primary"), StepSpec("wait", minutes=10),
             StepSpec("repeat", count=5), matcher='{team="t5"}')
    page = start(session, people, {"team": "t5"})
    paging.ack(session=session, page=page, user=people["primary"], now=m(3))
    assert paging.escalate_due(session=session, channels=CHANNELS, now=m(300)) == []
    assert len(notified(session, page)) == 1


@pytest.mark.parametrize("steps, message", [
    ([StepSpec("page", target="primary"), StepSpec("repeat", count=2)], "put a wait"),
    ([StepSpec("wait", minutes=5), StepSpec("repeat", count=1), StepSpec("repeat", count=1)],
     "at most once"),
    ([StepSpec("wait", minutes=5), StepSpec("repeat", count=11)], "between 1 and 10"),
    ([StepSpec("webhook", webhook_url="ftp://x.example/")], "https://"),
    ([StepSpec("webhook", webhook_url="https://u:p@x.example/")], "credentials"),
    ([StepSpec("notify_if_count", count=1, minutes=5)], "at least 2 alerts"),
    ([StepSpec("notify_users")], "between 1 and"),
    ([StepSpec("wait", minutes=5, important=True)], "only a step that notifies"),
    ([StepSpec("dance")], "unknown kind"),
    ([], "at least one step"),
])
def test_steps_that_break_the_rules_are_refused(session, steps, message):
    with pytest.raises(OncallError, match=message):
        escalation.set_chain(session=session, chain=None, name="bad", description="",
                             steps=steps)


def test_the_demo_sev1_ladder_pages_importantly_then_everyone_then_repeats(
        session, people, make_user):
    users = {demo.MANAGER: people["manager"], demo.VP: people["vp"]}
    description, ack, night, steps = demo.POLICIES["sev1"]
    escalation.set_policy_steps(session=session, severity="sev1", description=description,
                                ack_minutes=ack, next_business_day=night,
                                steps=demo.step_specs(steps, users))
    page = paging.start_paging(session=session, incident_id=960, severity="sev1", title="down",
                               service_slugs=[people["svc"].slug], channels=CHANNELS, now=T0)
    for minutes in range(5, 145, 5):
        paging.escalate_due(session=session, channels=CHANNELS, now=m(minutes))
    sent = [(e.kind, e.at, e.summary.split(":")[0]) for e in page.events
            if e.kind in ("sent", "escalated")]
    assert [at for _, at, _ in sent[:4]] == [T0, m(5), m(15), m(30)]  # the first pass
    assert sum(1 for e in page.events if e.kind == "repeated") == 2  # then twice more
    assert len(sent) == 12 and sent[-1][1] == m(45 * 2 + 30)
    assert all(important for _, important in notified(session, page))
    assert {e for e, _ in notified(session, page)} == {
        people["primary"].email, people["secondary"].email, people["manager"].email,
        people["vp"].email}


def test_the_demo_sev4_still_waits_for_the_business_morning(session, people):
    description, ack, night, steps = demo.POLICIES["sev4"]
    escalation.set_policy_steps(session=session, severity="sev4", description=description,
                                ack_minutes=ack, next_business_day=night,
                                steps=demo.step_specs(steps, {}))
    friday_night = datetime(2026, 11, 20, 22, 0, tzinfo=UTC)
    page = paging.start_paging(session=session, incident_id=961, severity="sev4", title="typo",
                               service_slugs=[people["svc"].slug], now=friday_night)
    assert page.events == [] and page.due_at == datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


def test_the_demo_seed_writes_the_ladders_the_chain_and_its_route_once(session, make_user):
    for email, role in ((demo.MANAGER, "manager"), (demo.VP, "admin"),
                        ("oncall@meridian.example", "oncall"), ("dev@meridian.example", "oncall")):
        make_user(role, email=email)
    for _ in range(2):  # seeding again changes nothing
        demo.seed(session=session)
    kinds = [s.kind for s in service.get_policy(session=session, severity="sev1").steps]
    assert kinds == ["page", "wait", "page", "wait", "notify_schedule", "wait", "notify_users",
                     "wait", "repeat"]
    assert service.get_policy(session=session, severity="sev4").next_business_day
    [chain] = escalation.list_chains(session=session)
    [route] = escalation.list_routes(session=session)
    assert route.chain_id == chain.id and chain.steps[0].kind == "notify_if_count"
