"""A tenant's monthly SLA, from the SLO math the managers' pages use.

Availability is the share of good events over the month across the platform's
`availability` SLOs (every tenant's requests go through the same services), read with the
SLO samples' exact window sums, so maintenance exclusions count as they do for error
budgets. Downtime is that bad share expressed as minutes of full outage over the month
(the error budget's own unit). Incidents are the customer-facing ones that overlapped the
month and were linked to the tenant or to no tenant in particular (everyone was affected).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from fractions import Fraction

from sqlalchemy.orm import Session

from portal.incidents import service as incidents
from portal.slo import samples, specs
from portal.slo import service as slo
from portal.slo.samples import Counts
from portal.tenants import periods, sla_plans
from portal.tenants.models import Tenant

AVAILABILITY_SLO = "availability"
PLATFORM_INCIDENTS_SCANNED = 2000  # newest incidents read for platform-wide ones


@dataclass(frozen=True)
class SlaIncident:
    id: int
    title: str
    severity: str
    opened_at: datetime
    resolved_at: datetime | None
    scope: str  # "this tenant" or "all tenants"


@dataclass(frozen=True)
class MonthInputs:
    """What every tenant's SLA of one month shares: the platform's counts and the
    incidents that affected all tenants."""
    month: date
    counts: Counts
    platform_incidents: tuple[SlaIncident, ...]
    now: datetime


@dataclass(frozen=True)
class SlaMonth:
    tenant_name: str
    plan: str
    month: date
    counts: Counts
    availability: Fraction | None   # share of good events, None without traffic
    downtime_minutes: Fraction
    allowed_minutes: Fraction
    target: Decimal                 # %
    met: bool
    credit_percent: Decimal
    credit_cents: int | None
    incidents: tuple[SlaIncident, ...]

    @property
    def availability_percent(self) -> Decimal | None:
        """Availability in % rounded to 5 places (what is stored and printed)."""
        if self.availability is None:
            return None
        return (Decimal(self.availability.numerator) * 100
                / Decimal(self.availability.denominator)).quantize(Decimal("0.00001"))

    @property
    def label(self) -> str:
        """The month as people say it, e.g. 'November 2026'."""
        return f"{self.month:%B %Y}"


def month_start(value: date) -> date:
    """The first day of `value`'s month."""
    return value.replace(day=1)


def previous_month(today: date) -> date:
    """The first day of the month before `today`'s."""
    return month_start(month_start(today) - timedelta(days=1))


def month_span(month: date) -> tuple[datetime, datetime]:
    """[start, end) of the calendar month in UTC."""
    first, last = periods.month_bounds(month.year, month.month)
    return (datetime.combine(first, time(), UTC),
            datetime.combine(last + timedelta(days=1), time(), UTC))


def _overlaps(incident, start: datetime, end: datetime, now: datetime) -> bool:
    return incident.opened_at < end and (incident.resolved_at or now) >= start


def _row(incident, scope: str) -> SlaIncident:
    return SlaIncident(id=incident.id, title=incident.title, severity=incident.severity,
                       opened_at=incident.opened_at, resolved_at=incident.resolved_at,
                       scope=scope)


def month_inputs(*, session: Session, month: date, now: datetime) -> MonthInputs:
    """The platform's availability counts and platform-wide incidents of one month."""
    start, end = month_span(month)
    ids = [s.id for s in specs.list_slos(session=session)
           if s.name == AVAILABILITY_SLO and s.sli_kind == "ratio"]
    sums = samples.window_counts(session=session, slo_ids=ids, end=end,
                                 windows={"month": end - start})
    counts = sum((sums[i]["month"] for i in ids), Counts())
    everyone = [_row(i, "all tenants") for i in incidents.list_incidents(
        session=session, limit=PLATFORM_INCIDENTS_SCANNED)
        if i.customer_facing and not i.tenant_links and _overlaps(i, start, end, now)]
    return MonthInputs(month=month, counts=counts, now=now,
                       platform_incidents=tuple(sorted(everyone, key=lambda i: i.opened_at)))


def tenant_incidents(*, session: Session, tenant_id: int, inputs: MonthInputs
                     ) -> list[SlaIncident]:
    """Customer-facing incidents linked to the tenant that overlapped the month."""
    start, end = month_span(inputs.month)
    # Reach back a month before the start so an incident still open when it began counts.
    days = (inputs.now - start).days + 32
    return [_row(i, "this tenant") for i in incidents.for_tenant(
        session=session, tenant_id=tenant_id, days=days)
        if _overlaps(i, start, end, inputs.now)]


def compute(*, session: Session, tenant: Tenant, inputs: MonthInputs) -> SlaMonth:
    """The tenant's SLA of `inputs.month`: availability, downtime, target, credits."""
    start, end = month_span(inputs.month)
    budget = slo.error_budget(counts=inputs.counts, objective=tenant.sla_target,
                              window=end - start)
    availability = slo.sli(inputs.counts)
    downtime = budget.consumed * budget.total_minutes
    percent = sla_plans.credit_percent(
        plan=tenant.plan, availability=None if availability is None else availability * 100)
    own = tenant_incidents(session=session, tenant_id=tenant.id, inputs=inputs)
    return SlaMonth(
        tenant_name=tenant.name, plan=tenant.plan, month=inputs.month, counts=inputs.counts,
        availability=availability, downtime_minutes=downtime,
        allowed_minutes=budget.total_minutes, target=tenant.sla_target,
        met=percent == 0, credit_percent=percent,
        credit_cents=sla_plans.credit_cents(plan=tenant.plan, percent=percent),
        incidents=tuple(sorted((*own, *inputs.platform_incidents),
                               key=lambda i: (i.opened_at, i.id))))
