"""Component states and uptime bars: incidents, SLO burn and maintenance with a fixed clock."""
from __future__ import annotations

from datetime import timedelta

from portal.slo.models import Slo
from portal.statuspage import service, states
from portal.statuspage.states import Span
from tests.unit.slo.factories import fill
from tests.unit.statuspage.conftest import NOW


def _states(page) -> dict[str, str]:
    return {c.slug: c.state for c in page.components}


def test_all_operational_without_incidents(session, world):
    page = service.page(session=session, tenant=world["acme"], now=NOW)
    assert [c.slug for c in page.components] == ["api-gateway", "order", "search"]
    assert set(_states(page).values()) == {"operational"} and page.state == "operational"


def test_sev1_on_a_component_takes_it_down_and_degrades_its_callers(session, world, declare):
    declare(services=["order"], tenants=["acme-sp"], severity="sev1")
    page = service.page(session=session, tenant=world["acme"], now=NOW)
    assert _states(page) == {"api-gateway": "degraded_performance", "order": "major_outage",
                             "search": "operational"}
    assert page.affected[page.incidents[0].id] == ["api-gateway", "order"]


def test_datastore_failure_shows_through_what_depends_on_it(session, world, declare):
    declare(services=["order-db"], severity="sev2")  # no tenant linked: every tenant
    page = service.page(session=session, tenant=world["acme"], now=NOW)
    assert _states(page) == {"api-gateway": "partial_outage", "order": "partial_outage",
                             "search": "operational"}


def test_mitigated_incident_is_only_a_degradation(session, world, declare):
    incident = declare(services=["order"], tenants=["acme-sp"], severity="sev1")
    incident.status, incident.mitigated_at = "mitigated", NOW - timedelta(minutes=5)
    session.flush()
    page = service.page(session=session, tenant=world["acme"], now=NOW)
    assert _states(page)["order"] == "degraded_performance"


def test_other_tenants_and_internal_incidents_do_not_count(session, world, declare):
    declare(services=["order"], tenants=["globex-sp"], severity="sev1")
    declare(services=["search"], severity="sev1", customer_facing=False)
    page = service.page(session=session, tenant=world["acme"], now=NOW)
    assert set(_states(page).values()) == {"operational"} and page.incidents == []
    globex = service.page(session=session, tenant=world["globex"], now=NOW)
    assert _states(globex)["order"] == "major_outage"


def test_fast_slo_burn_is_a_partial_outage(session, world):
    order = world["services"]["order"]
    slo = Slo(service_id=order.id, name="availability", sli_kind="ratio", objective="99.9",
              window_days=30, owner="team", description="", good_query="g", total_query="t")
    session.add(slo)
    session.flush()
    fill(session, slo, end=NOW, minutes=90, good=50, total=100)  # half the requests fail
    page = service.page(session=session, tenant=world["acme"], now=NOW)
    assert _states(page)["order"] == "partial_outage"
    assert _states(page)["search"] == "operational"


def test_maintenance_in_progress_unless_something_worse(session, world, declare):
    service.schedule_maintenance(
        session=session, title="Database upgrade", description="", service_slugs=["search",
                                                                              "order"],
        starts_at=NOW - timedelta(hours=1), ends_at=NOW + timedelta(hours=1),
        actor_email="ops@test.example", known_slugs={"search", "order", "api-gateway"})
    declare(services=["order"], tenants=["acme-sp"], severity="sev1")
    page = service.page(session=session, tenant=world["acme"], now=NOW)
    assert _states(page)["search"] == "under_maintenance"
    assert _states(page)["order"] == "major_outage"
    assert [m.title for m in page.maintenances] == ["Database upgrade"]


def test_uptime_bars_colour_each_day_by_its_worst_state(session, world, declare):
    opened = NOW - timedelta(days=3, hours=13)  # 2026-12-03 23:00, across midnight
    declare(services=["order"], tenants=["acme-sp"], severity="sev1", opened_at=opened,
            resolved_at=opened + timedelta(hours=2))
    declare(services=["order"], tenants=["acme-sp"], severity="sev3",
            opened_at=NOW - timedelta(days=100), resolved_at=NOW - timedelta(days=99))
    page = service.page(session=session, tenant=world["acme"], now=NOW)
    order = next(c for c in page.components if c.slug == "order")
    assert len(order.bars) == 90 and order.bars[-1].day == NOW.date()
    bad = {b.day.isoformat(): b.state for b in order.bars if b.state != "operational"}
    assert bad == {"2026-12-03": "major_outage", "2026-12-04": "major_outage"}
    assert order.uptime == round(100 * (1 - 2 / (90 * 24)), 3)
    assert len(page.incidents) == 1  # the 100-day-old one is outside the window


def test_uptime_merges_overlapping_outages():
    start = NOW - timedelta(days=1)
    spans = [Span("order", "major_outage", start, start + timedelta(hours=2)),
             Span("order", "partial_outage", start + timedelta(hours=1),
                  start + timedelta(hours=3)),
             Span("order", "degraded_performance", start, NOW)]
    assert states.uptime_percent(component="order", spans=spans, start=start,
                                 end=NOW) == 87.5


def test_slo_alert_states_and_worst():
    assert states.component_state(component="x", spans=[], slo_alerts=["ticket"],
                                  now=NOW) == "degraded_performance"
    assert states.component_state(component="x", spans=[], slo_alerts=["ok", "no_data"],
                                  now=NOW) == "operational"
    assert states.worst(["under_maintenance", "operational"]) == "under_maintenance"
