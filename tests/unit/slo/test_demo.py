"""The demo seed: every SLO of seed 000, lively samples, one frozen service, idempotent."""
from __future__ import annotations

from sqlalchemy import func, select

from portal.catalog import service as catalog
from portal.demo.seed import seed_catalog
from portal.slo import demo, service as slo_service, specs
from portal.slo.models import Sample, Slo


def _state(session, slug):
    svc = catalog.get_service(session=session, slug=slug)
    return slo_service.policy_state(session=session, service_id=svc.id)


def test_seed_creates_specs_and_states(session):
    seed_catalog(session=session)
    demo.seed(session=session)
    names = {(s.service.slug, s.name) for s in specs.list_slos(session=session)}
    assert ("api-gateway", "added-latency-p99") in names and ("notification", "delivery") in names
    assert len(names) == sum(len(v) for v in demo.SEED_SLOS.values()) == 14
    assert _state(session, "search") == "exhausted"
    assert _state(session, "notification") == "at_risk"
    assert _state(session, "billing") == "healthy"
    search = catalog.get_service(session=session, slug="search")
    assert "frozen" in slo_service.deploy_freeze(session=session, service_id=search.id)
    count = session.scalar(select(func.count()).select_from(Sample))
    demo.seed(session=session)
    assert session.scalar(select(func.count()).select_from(Sample)) == count
    assert session.scalar(select(func.count()).select_from(Slo)) == 14
