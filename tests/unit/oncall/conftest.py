"""Factories for on-call rows: a team schedule with ordered layers, and the escalation policies."""
import functools

import pytest

from portal.catalog import service as catalog
from portal.oncall import service
from tests import oncall_rows


@pytest.fixture
def make_schedule(session):
    return functools.partial(oncall_rows.schedule, session)


# The ladders as they were before step kinds: `page` steps at minute offsets. Kept here so
# the engine's tests keep proving that such policies still page exactly as they did.
LEGACY_POLICIES = {
    "sev1": ("Service down, data loss risk", 5, False, [
        (0, "primary", None, "Primary on-call"), (15, "secondary", None, "Secondary on-call"),
        (30, "user", "manager@meridian.example", "Engineering Manager"),
        (60, "user", "admin@meridian.example", "VP Engineering")]),
    "sev2": ("Degraded performance, partial outage", 15, False, [
        (0, "primary", None, "Primary on-call"), (30, "secondary", None, "Secondary on-call"),
        (60, "user", "manager@meridian.example", "Team lead")]),
    "sev3": ("Non-critical issue, workaround exists", 60, False, [
        (0, "primary", None, "Primary on-call")]),
    "sev4": ("Cosmetic, informational; reviewed in morning triage", 24 * 60, True, [
        (0, "primary", None, "Primary on-call")]),
}


@pytest.fixture
def seed_policies(session, make_user):
    """The four escalation policies (the pre-chain ladders), with a manager and a VP as the
    named escalation people."""
    manager, vp = make_user("manager"), make_user("manager")
    people = {"manager@meridian.example": manager, "admin@meridian.example": vp}
    for severity, (description, ack, next_day, steps) in LEGACY_POLICIES.items():
        service.set_policy(session=session, severity=severity, description=description,
                           ack_minutes=ack, next_business_day=next_day,
                           steps=[(after, target, people.get(email), label)
                                  for after, target, email, label in steps])
    session.flush()
    return {"manager": manager, "vp": vp}


@pytest.fixture
def team_with_service(session):
    team = catalog.upsert_team(session=session, slug="oncall-test-team", name="Test Team",
                               chat_channel="#test-team")
    svc = catalog.upsert_service(session=session, slug="oncall-test-svc", team=team,
                                 name="Test Service")
    session.flush()
    return team, svc
