"""A tenant's status page: its components and their state, 90-day uptime, incident history
with the public updates, and scheduled maintenance.

Every figure comes from a fixed number of statements whatever the number of incidents: one
for the incidents of the window, one for their updates, one for the maintenance windows,
plus the catalog graph and the SLO evaluation.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.catalog import service as catalog
from portal.db import utcnow
from portal.incidents import service as incidents
from portal.incidents.models import CustomerUpdate, Incident
from portal.slo import service as slo
from portal.statuspage import states
from portal.statuspage.models import Maintenance
from portal.statuspage.states import Bar, Span
from portal.tenants.models import Tenant

MAX_TITLE, MAX_DESCRIPTION = 200, 5000
MAX_WINDOW = timedelta(days=14)


@dataclass(frozen=True)
class Component:
    slug: str
    name: str
    state: str
    bars: list[Bar]
    uptime: float

    @property
    def label(self) -> str:
        return states.LABELS[self.state]


@dataclass(frozen=True)
class StatusPage:
    tenant: Tenant
    now: datetime
    components: list[Component]
    incidents: list[Incident]  # the window's history, newest first
    updates: dict[int, list[CustomerUpdate]]
    maintenances: list[Maintenance]  # in progress or upcoming, soonest first
    affected: dict[int, list[str]]  # incident id -> slugs of the components it reached

    @property
    def state(self) -> str:
        return states.worst(c.state for c in self.components)

    @property
    def open_incidents(self) -> list[Incident]:
        return [i for i in self.incidents if i.is_open]

    def component_names(self, slugs) -> list[str]:
        """Display names of the components among `slugs`."""
        names = {c.slug: c.name for c in self.components}
        return [names[s] for s in slugs if s in names]


def incident_spans(incident: Incident, impact: dict[str, dict[str, str]],
                   components: set[str]) -> list[Span]:
    """The stretches an incident put each component it reaches in an outage or degradation."""
    spans = []
    for service in incident.services:
        for component, reach in impact.get(service.slug, {}).items():
            if component not in components:
                continue
            worst = states.incident_state(severity=incident.severity, reach=reach)
            calm = incident.mitigated_at or incident.resolved_at
            spans.append(Span(component, worst, incident.opened_at, calm))
            if incident.mitigated_at:
                spans.append(Span(component, "degraded_performance", incident.mitigated_at,
                                  incident.resolved_at))
    return spans


def maintenance_spans(windows: list[Maintenance], components: set[str]) -> list[Span]:
    """Each maintenance window as a span of every component it lists."""
    return [Span(slug, "under_maintenance", m.starts_at, m.ends_at)
            for m in windows for slug in m.service_slugs if slug in components]


def maintenances_between(*, session: Session, start: datetime, end: datetime | None = None
                         ) -> list[Maintenance]:
    """Maintenance windows that end after `start` (and begin before `end`), soonest first."""
    stmt = select(Maintenance).where(Maintenance.ends_at > start).order_by(Maintenance.starts_at)
    if end is not None:
        stmt = stmt.where(Maintenance.starts_at < end)
    return list(session.scalars(stmt))


def _slo_alerts(session: Session, components, now: datetime) -> dict[str, list[str]]:
    ids = {c.id: c.slug for c in components}
    specs = slo.slos_for_services(session=session, service_ids=list(ids))
    alerts: dict[str, list[str]] = {}
    for status in slo.evaluate(session=session, slos=specs, now=now):
        alerts.setdefault(ids[status.slo.service_id], []).append(status.alert)
    return alerts


def page(*, session: Session, tenant: Tenant, now: datetime | None = None) -> StatusPage:
    """Everything the tenant's status page shows at `now`."""
    now = now or utcnow()
    today = now.date()
    start = now - timedelta(days=states.UPTIME_DAYS)
    customer = catalog.customer_map(session=session)
    slugs = {c.slug for c in customer.components}
    history = incidents.status_page_incidents(session=session, tenant_id=tenant.id,
                                              start=start, end=now)
    windows = maintenances_between(session=session, start=start)
    spans = [s for i in history for s in incident_spans(i, customer.impact, slugs)]
    spans += maintenance_spans([m for m in windows if m.starts_at <= now], slugs)
    alerts = _slo_alerts(session, customer.components, now)
    components = [Component(
        c.slug, c.name,
        states.component_state(component=c.slug, spans=spans, slo_alerts=alerts.get(c.slug, []),
                               now=now),
        states.uptime_bars(component=c.slug, spans=spans, today=today),
        states.uptime_percent(component=c.slug, spans=spans, start=start, end=now))
        for c in customer.components]
    return StatusPage(tenant=tenant, now=now, components=components, incidents=history,
                      updates=incidents.updates_by_incident(
                          session=session, incident_ids=[i.id for i in history]),
                      maintenances=[m for m in windows if m.ends_at > now],
                      affected={i.id: sorted({s.component for s in incident_spans(
                          i, customer.impact, slugs)}) for i in history})


def schedule_maintenance(*, session: Session, title: str, description: str,
                         service_slugs: list[str], starts_at: datetime, ends_at: datetime,
                         actor_email: str, known_slugs: set[str]) -> Maintenance:
    """Plan a maintenance window on known components; raises ValueError with the reason."""
    title, description = (title or "").strip(), (description or "").strip()
    if not title or len(title) > MAX_TITLE:
        raise ValueError(f"A maintenance needs a title of 1 to {MAX_TITLE} characters.")
    if len(description) > MAX_DESCRIPTION:
        raise ValueError(f"The description has at most {MAX_DESCRIPTION} characters.")
    unknown = sorted(set(service_slugs) - known_slugs)
    if not service_slugs or unknown:
        raise ValueError("Choose one or more of the status page's components"
                         + (f"; unknown: {', '.join(unknown)[:200]}." if unknown else "."))
    if ends_at <= starts_at or ends_at - starts_at > MAX_WINDOW:
        raise ValueError("A maintenance window ends after it starts and lasts at most 14 days.")
    window = Maintenance(title=title, description=description, starts_at=starts_at,
                         ends_at=ends_at, service_slugs=sorted(set(service_slugs)),
                         created_by_email=actor_email)
    session.add(window)
    session.flush()
    return window
