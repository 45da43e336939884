"""Error-budget policy: per-service state, the production deploy freeze and overrides."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from portal.catalog.models import ServiceEvent
from portal.slo import service as slo_service
from tests.unit.slo.factories import fill, make_service, make_slo

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def test_service_without_slo_is_healthy_and_not_frozen(session):
    svc = make_service(session)
    assert slo_service.policy_state(session=session, service_id=svc.id, now=NOW) == "healthy"
    assert slo_service.deploy_freeze(session=session, service_id=svc.id, now=NOW) is None


def test_states_follow_remaining_budget(session):
    svc = make_service(session)
    slo = make_slo(session, svc, objective="99")  # 1% of events may fail
    # 10 days ago: 2000 events with 10 bad -> half of the budget used, too long ago to alert
    fill(session, slo, end=NOW - timedelta(days=10), minutes=10, good=199, total=200)
    assert slo_service.policy_state(session=session, service_id=svc.id, now=NOW) == "healthy"
    # then 100 events with 12 bad: 22 bad of 2100 allowed 21 -> exhausted
    fill(session, slo, end=NOW - timedelta(days=9), minutes=1, good=88, total=100)
    assert slo_service.policy_state(session=session, service_id=svc.id, now=NOW) == "exhausted"


def test_worst_slo_decides_and_at_risk_below_a_quarter(session):
    svc = make_service(session)
    healthy, risky = make_slo(session, svc, name="a", objective="99"), make_slo(
        session, svc, name="b", objective="99")
    fill(session, healthy, end=NOW - timedelta(days=5), minutes=10, good=100, total=100)
    # 1000 events, allowed 10 bad, 8 bad -> 20% left -> at_risk
    fill(session, risky, end=NOW - timedelta(days=5), minutes=8, good=99, total=100)
    fill(session, risky, end=NOW - timedelta(days=6), minutes=2, good=100, total=100)
    assert slo_service.policy_state(session=session, service_id=svc.id, now=NOW) == "at_risk"
    assert slo_service.deploy_freeze(session=session, service_id=svc.id, now=NOW) is None


def test_exhausted_freezes_prod_only_until_override(session):
    svc = make_service(session)
    slo = make_slo(session, svc, objective="99.9")
    fill(session, slo, end=NOW - timedelta(days=2), minutes=5, good=90, total=100)
    reason = slo_service.deploy_freeze(session=session, service_id=svc.id, now=NOW)
    assert reason and "exhausted" in reason and svc.name in reason
    assert slo_service.deploy_freeze(session=session, service_id=svc.id,
                                     environment="staging", now=NOW) is None
    override = slo_service.grant_override(
        session=session, service=svc, justification="Hotfix for the checkout outage INC-42",
        hours=4, actor_email="boss@test.example", now=NOW)
    assert slo_service.deploy_freeze(session=session, service_id=svc.id, now=NOW) is None
    later = NOW + timedelta(hours=4)
    assert slo_service.deploy_freeze(session=session, service_id=svc.id, now=later)
    slo_service.revoke_override(session=session, override=override, actor_email="b@x.example",
                                now=NOW + timedelta(hours=1))
    assert slo_service.deploy_freeze(session=session, service_id=svc.id,
                                     now=NOW + timedelta(hours=2))
    kinds = session.scalars(select(ServiceEvent.kind).where(ServiceEvent.service_id == svc.id))
    assert sorted(kinds) == ["slo.override_granted", "slo.override_revoked"]


@pytest.mark.parametrize("justification,hours", [("too short", 4), ("x" * 30, 0),
                                                  ("x" * 30, 24 * 7 + 1)])
def test_override_rejects_bad_input(session, justification, hours):
    svc = make_service(session)
    with pytest.raises(ValueError):
        slo_service.grant_override(session=session, service=svc, justification=justification,
                                   hours=hours, actor_email="m@test.example", now=NOW)


def test_policy_changes_go_on_the_timeline_once(session):
    svc = make_service(session)
    slo = make_slo(session, svc, objective="99.9")
    fill(session, slo, end=NOW - timedelta(days=3), minutes=5, good=1000, total=1000)
    assert svc.slug not in slo_service.record_policy_changes(session=session, now=NOW)
    fill(session, slo, end=NOW - timedelta(days=2), minutes=5, good=900, total=1000)
    assert svc.slug in slo_service.record_policy_changes(session=session, now=NOW)
    assert svc.slug not in slo_service.record_policy_changes(session=session, now=NOW)
    events = list(session.scalars(select(ServiceEvent).where(
        ServiceEvent.service_id == svc.id, ServiceEvent.kind == "slo.policy_state")))
    assert [e.details for e in events] == [{"from": "healthy", "to": "exhausted"}]
    assert "frozen" in events[0].summary
