"""Import plans' escalation chains and routes written as the portal's own: every step kind,
idempotent re-runs by external id, and `Unmapped` for what the portal cannot express."""
import pytest

from portal.catalog import service as catalog
from portal.oncall import escalation, escalation_import, routing
from portal.oncall.importing.plan import PlanChain, PlanRoute, PlanStep


@pytest.fixture
def ids(session, make_user, make_schedule):
    alice, bob = make_user("oncall"), make_user("oncall")
    team = catalog.upsert_team(session=session, slug="imp-team", name="Imp", chat_channel=None)
    schedule = make_schedule([alice], slug="imp-sched")
    return {"users": {"U1": alice.id, "U2": bob.id}, "teams": {"T1": team.id},
            "schedules": {"S1": schedule.id}, "alice": alice, "bob": bob}


def plan(*steps, external_id="EC1", name="Checkout"):
    return PlanChain(external_id=external_id, name=name, steps=tuple(steps))


EVERY_KIND = (
    PlanStep("notify_users", targets=("U1", "U2"), important=True),
    PlanStep("wait", minutes=5),
    PlanStep("notify_group", targets=("T1",)),
    PlanStep("notify_schedule", targets=("S1",), important=True),
    PlanStep("notify_if_count", count=3, minutes=10),
    PlanStep("webhook", webhook_url="https://hooks.example/escalate"),
    PlanStep("wait", minutes=10),
    PlanStep("repeat", count=2),
)


def apply(session, ids, chain):
    return escalation_import.apply_chain(session=session, chain=chain, users=ids["users"],
                                         teams=ids["teams"], schedules=ids["schedules"])


def test_every_kind_is_written_and_a_rerun_updates_the_same_chain(session, ids):
    first = apply(session, ids, plan(*EVERY_KIND))
    assert first.created and first.unmapped == [] and first.steps == 8
    steps = first.chain.steps
    assert [s.kind for s in steps] == ["notify_users", "wait", "notify_group", "notify_schedule",
                                       "notify_if_count", "webhook", "wait", "repeat"]
    assert {u.email for u in steps[0].users} == {ids["alice"].email, ids["bob"].email}
    assert steps[0].important and steps[3].important and not steps[2].important
    assert (steps[2].team.slug, steps[3].schedule.slug) == ("imp-team", "imp-sched")
    assert (steps[4].count, steps[4].minutes, steps[7].count) == (3, 10, 2)
    again = apply(session, ids, plan(PlanStep("notify_users", targets=("U1",)),
                                     name="Checkout (renamed)"))
    assert not again.created and again.chain.id == first.chain.id
    assert again.chain.name == "Checkout (renamed)" and len(again.chain.steps) == 1
    assert len(escalation.list_chains(session=session)) == 1


def test_what_cannot_be_expressed_comes_back_unmapped(session, ids):
    result = apply(session, ids, plan(
        PlanStep("notify_users", targets=("U1", "GHOST")),
        PlanStep("repeat", count=2),  # no wait before it
        PlanStep("notify_group", targets=("NOTEAM",)),
        PlanStep("wait", minutes=99_999),
        PlanStep("notify_if_count", count=1, minutes=5),
        PlanStep("webhook", webhook_url="gopher://x"),
        PlanStep("repeat", count=50)))
    reasons = [u.reason for u in result.unmapped]
    assert [s.kind for s in result.chain.steps] == ["notify_users", "wait", "repeat"]
    assert result.chain.steps[1].minutes == 7 * 24 * 60 and result.chain.steps[2].count == 10
    for expected in ("user GHOST was not imported", "without a wait", "team NOTEAM",
                     "above the portal's 10080", "below 2", "https://", "above the portal's 10"):
        assert any(expected in r for r in reasons), (expected, reasons)
    assert all(u.external_id.startswith("EC1#") for u in result.unmapped)


def test_a_chain_with_nothing_expressible_is_not_created(session, ids):
    result = apply(session, ids, plan(PlanStep("notify_users", targets=("GHOST",))))
    assert result.chain is None and not result.created
    assert result.unmapped[-1].kind == "escalation_chain"


def test_an_existing_chain_of_the_same_name_is_adopted(session, ids):
    made = escalation.set_chain(session=session, chain=None, name="Checkout", description="",
                                steps=[escalation.StepSpec("wait", minutes=1)])
    result = apply(session, ids, plan(PlanStep("notify_schedule")))
    assert result.chain.id == made.id and result.chain.external_id == "EC1"


def test_routes_are_idempotent_and_refuse_what_they_cannot_match(session, ids):
    chain = apply(session, ids, plan(PlanStep("notify_schedule"))).chain
    chains = {"EC1": chain.id}
    route = PlanRoute("R1", "Grafana Alertmanager", '{service="orders", env=~"prod|stage"}',
                      "EC1")
    first = escalation_import.apply_route(session=session, route=route, chains=chains)
    again = escalation_import.apply_route(
        session=session, route=PlanRoute("R1", "Grafana Alertmanager", 'service="billing"',
                                         "EC1"), chains=chains)
    assert first.created and not again.created and again.route.id == first.route.id
    assert routing.route_for(session=session, labels={"service": "billing"}).id == first.route.id
    assert routing.route_for(session=session, labels={"service": "orders"}) is None
    for bad, reason in ((PlanRoute("R2", "x", "", "EC1"), "default route"),
                        (PlanRoute("R3", "x", '{a=~"("}', "EC1"), "cannot be used"),
                        (PlanRoute("R4", "x", '{a="b"}', "NOPE"), "was not imported"),
                        (PlanRoute("R5", "x", '{a=~".*"}', "EC1"), "cannot be used")):
        result = escalation_import.apply_route(session=session, route=bad, chains=chains)
        assert result.route is None and reason in result.unmapped[0].reason, result.unmapped
