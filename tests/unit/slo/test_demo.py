"""The demo seed: every SLO of Meridian, lively samples, one frozen service, idempotent."""
from __future__ import annotations

from sqlalchemy import func, select

from platform_services.common.config import DEFAULT_PORTS
from portal.catalog import service as catalog
from portal.demo.seed import seed_catalog
from portal.health.demo import LOCAL_PORTS
from portal.slo import demo, specs
from portal.slo import service as slo_service
from portal.slo.models import Sample, Slo


def _state(session, slug):
    svc = catalog.get_service(session=session, slug=slug)
    return slo_service.policy_state(session=session, service_id=svc.id)


def test_seed_creates_specs_and_states(session):
    seed_catalog(session=session)
    demo.seed(session=session)
    names = {(s.service.slug, s.name) for s in specs.list_slos(session=session)}
    assert ("api-gateway", "added-latency-p99") in names and ("notification", "delivery") in names
    assert len(names) == sum(len(v) for v in demo.SEED_SLOS.values()) == 13
    assert _state(session, "search") == "exhausted"
    assert _state(session, "notification") == "at_risk"
    assert _state(session, "billing") == "healthy"
    search = catalog.get_service(session=session, slug="search")
    assert "frozen" in slo_service.deploy_freeze(session=session, service_id=search.id)
    count = session.scalar(select(func.count()).select_from(Sample))
    demo.seed(session=session)
    assert session.scalar(select(func.count()).select_from(Sample)) == count
    assert session.scalar(select(func.count()).select_from(Slo)) == 13


def test_reseeding_replaces_specs_the_services_cannot_measure(session):
    """An older demo load's worker SLO (jobs on time: no job carries an estimate) gives way."""
    seed_catalog(session=session)
    worker = catalog.get_service(session=session, slug="worker")
    specs.create(session=session, service=worker, spec=specs.clean(dict(
        name="jobs-on-time", objective="99.9", good_query='jobs_completed_total{on_time="true"}',
        total_query="jobs_completed_total")))
    demo.seed(session=session)
    names = {s.name for s in specs.list_slos(session=session, service="worker")}
    assert names == {"jobs-succeeded"}
    assert all(s.good_query.startswith(("meridian_", "kong_"))
               for s in specs.list_slos(session=session))


def test_every_service_portal_dev_runs_has_a_base_url_and_slos():
    assert LOCAL_PORTS == DEFAULT_PORTS
    assert set(LOCAL_PORTS) <= set(demo.SEED_SLOS)
