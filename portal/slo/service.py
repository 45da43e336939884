"""Error-budget math (pure and exact, on integer counts and Fractions) and the error-budget
policy: per-service state, production deploy freeze and manager overrides."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from functools import lru_cache

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.catalog import service as catalog
from portal.catalog.models import Service
from portal.db import utcnow
from portal.slo import openslo_windows, samples, spec_words
from portal.slo.models import PolicyOverride, PolicyState, Slo
from portal.slo.samples import Counts

BURN_WINDOWS: dict[str, timedelta] = {
    "5m": timedelta(minutes=5), "30m": timedelta(minutes=30), "1h": timedelta(hours=1),
    "2h": timedelta(hours=2), "6h": timedelta(hours=6), "1d": timedelta(days=1),
    "3d": timedelta(days=3)}
# Google SRE Workbook, "Alerting on SLOs", multiwindow multi-burn-rate alerts (30-day SLO):
# (severity, long window, short window, burn-rate threshold); both windows must exceed it.
ALERT_RULES: tuple[tuple[str, str, str, Fraction], ...] = (
    ("page", "1h", "5m", Fraction("14.4")), ("page", "6h", "30m", Fraction(6)),
    ("ticket", "1d", "2h", Fraction(3)), ("ticket", "3d", "6h", Fraction(1)))
FORECAST_WINDOW = "1h"
AT_RISK_BELOW = Fraction(1, 4)
POLICY_STATES = ("healthy", "at_risk", "exhausted")
MAX_OVERRIDE = timedelta(days=7)
MIN_JUSTIFICATION = 20


@lru_cache(maxsize=256)
def budget_fraction(objective: Decimal | str | float) -> Fraction:
    """The allowed share of bad events, e.g. 99.95 -> 1/2000; 0 and 100 are rejected."""
    target = Fraction(str(objective))
    if not 0 < target < 100:
        raise ValueError("objective must be strictly between 0 and 100 percent")
    return (100 - target) / 100


def sli(counts: Counts) -> Fraction | None:
    """Share of good events, or None when there were no events (a gap, not good or bad)."""
    return Fraction(counts.good, counts.total) if counts.total else None


def burn_rate(counts: Counts, objective: Decimal | str) -> Fraction | None:
    """How many times faster than sustainable the budget burns (1 = exactly used up)."""
    if not counts.total:
        return None
    return Fraction(counts.bad, counts.total) / budget_fraction(objective)


@dataclass(frozen=True)
class Budget:
    counts: Counts
    window: timedelta
    allowed: Fraction          # share of events that may be bad
    consumed: Fraction         # share of the budget used (may exceed 1)

    @property
    def remaining(self) -> Fraction:
        return 1 - self.consumed

    @property
    def total_minutes(self) -> Fraction:
        """The budget as minutes of full outage over the window."""
        return self.allowed * Fraction(int(self.window.total_seconds()), 60)

    @property
    def remaining_minutes(self) -> Fraction:
        return self.remaining * self.total_minutes


def error_budget(*, counts: Counts, objective: Decimal | str, window: timedelta) -> Budget:
    """Budget total, consumed and remaining over the window's good/total counts."""
    allowed = budget_fraction(objective)
    consumed = Fraction(counts.bad, 1) / (allowed * counts.total) if counts.total else Fraction(0)
    return Budget(counts=counts, window=window, allowed=allowed, consumed=consumed)


def alert_state(burn_rates: dict[str, Fraction | None]) -> str:
    """'page', 'ticket' or 'ok' by the multiwindow multi-burn-rate rules ('no_data' if empty)."""
    if all(rate is None for rate in burn_rates.values()):
        return "no_data"
    for severity in ("page", "ticket"):
        for sev, long_w, short_w, threshold in ALERT_RULES:
            long_r, short_r = burn_rates.get(long_w), burn_rates.get(short_w)
            if (sev == severity and long_r is not None and short_r is not None
                    and long_r > threshold and short_r > threshold):
                return severity
    return "ok"


def forecast_exhaustion(budget: Budget, burn: Fraction | None) -> timedelta | None:
    """Time until the remaining budget is gone at `burn`; None when it is not burning."""
    if budget.remaining <= 0:
        return timedelta(0)
    if not burn:
        return None
    seconds = budget.remaining * Fraction(int(budget.window.total_seconds())) / burn
    return timedelta(seconds=float(seconds))


def slo_policy_state(budget: Budget, alert: str) -> str:
    """healthy | at_risk | exhausted for one SLO."""
    if budget.counts.total and budget.remaining <= 0:
        return "exhausted"
    if alert in ("page", "ticket") or (budget.counts.total and budget.remaining < AT_RISK_BELOW):
        return "at_risk"
    return "healthy"


@dataclass(frozen=True)
class SloStatus:
    slo: Slo
    budget: Budget
    burn_rates: dict[str, Fraction | None]
    alert: str
    policy: str
    exhausts_in: timedelta | None

    @property
    def sli(self) -> Fraction | None:
        return sli(self.budget.counts)


def evaluate(*, session: Session, slos: list[Slo], now: datetime | None = None
             ) -> list[SloStatus]:
    """Budget, burn rates, alert and policy state of each SLO at `now`."""
    now = samples.floor_minute(now or utcnow())
    statuses = []
    by_window: dict[int, list[Slo]] = {}
    for slo in slos:
        if slo.is_calendar or slo.budgeting_method != "Occurrences":
            statuses.append(_period_status(session, slo, now))
            continue
        by_window.setdefault(slo.window_days, []).append(slo)
    for days, group in by_window.items():
        windows = {**BURN_WINDOWS, "slo": timedelta(days=days)}
        counts = samples.window_counts(session=session, slo_ids=[s.id for s in group], end=now,
                                       windows=windows)
        for slo in group:
            statuses.append(_status(slo, counts[slo.id]))
    order = {slo.id: i for i, slo in enumerate(slos)}
    return sorted(statuses, key=lambda st: order[st.slo.id])


def slos_for_services(*, session: Session, service_ids: list[int]) -> list[Slo]:
    """The SLOs of the given services, by service then name."""
    return list(session.scalars(select(Slo).where(Slo.service_id.in_(service_ids))
                                .order_by(Slo.service_id, Slo.name)))


def budget_period(slo: Slo, now: datetime) -> tuple[datetime, datetime]:
    """[start, end) of the SLO's budget period at `now`: the calendar window containing it,
    or the rolling window ending at it."""
    if slo.is_calendar:
        # A calendar SLO is saved with its start, zone and duration.
        assert slo.calendar_start and slo.calendar_time_zone and slo.window_duration
        return openslo_windows.calendar_period(
            start=slo.calendar_start, time_zone=slo.calendar_time_zone,
            duration=slo.window_duration, now=now)
    return now - timedelta(days=slo.window_days), now


def _period_status(session: Session, slo: Slo, now: datetime) -> SloStatus:
    """Status over a calendar window's current period and/or counted in time slices: the
    budget pays for bad slices (Timeslices: a slice is good when its share of good events
    reaches timeSliceTarget; RatioTimeslices: the mean of the slices' shares)."""
    start, end = budget_period(slo, now)
    windows = {**BURN_WINDOWS, "slo": now - start}
    if slo.budgeting_method == "Occurrences":
        counts = samples.window_counts(session=session, slo_ids=[slo.id], end=now,
                                       windows=windows)[slo.id]
    else:
        minutes = spec_words.slice_minutes(slo)
        target = Fraction(str(slo.time_slice_target or 0))
        counts = {name: openslo_windows.time_slices(
            session=session, slo_id=slo.id, start=now - length, end=now, minutes=minutes,
            slice_target=target, ratio=slo.budgeting_method == "RatioTimeslices")
            for name, length in windows.items()}
    return _status(slo, counts, window=end - start)


def _status(slo: Slo, counts: dict[str, Counts], window: timedelta | None = None) -> SloStatus:
    budget = error_budget(counts=counts["slo"], objective=slo.objective,
                          window=window or timedelta(days=slo.window_days))
    rates = {name: burn_rate(counts[name], slo.objective) for name in BURN_WINDOWS}
    alert = alert_state(rates)
    return SloStatus(slo=slo, budget=budget, burn_rates=rates, alert=alert,
                     policy=slo_policy_state(budget, alert),
                     exhausts_in=forecast_exhaustion(budget, rates[FORECAST_WINDOW]))


def worst_state(states: list[str]) -> str:
    """The worst of several policy states ('healthy' for none)."""
    return max(states, key=POLICY_STATES.index, default="healthy")


def policy_state(*, session: Session, service_id: int, now: datetime | None = None) -> str:
    """The service's error-budget policy state: the worst over its SLOs."""
    slos = list(session.scalars(select(Slo).where(Slo.service_id == service_id)))
    return worst_state([st.policy for st in evaluate(session=session, slos=slos, now=now)])


def record_policy_changes(*, session: Session, now: datetime | None = None) -> list[str]:
    """Put each service's policy state change since the last call on its timeline."""
    now = now or utcnow()
    by_service: dict[int, list[str]] = {}
    for st in evaluate(session=session, slos=list(session.scalars(select(Slo))), now=now):
        by_service.setdefault(st.slo.service_id, []).append(st.policy)
    changed = []
    for service_id, states in by_service.items():
        state, row = worst_state(states), session.get(PolicyState, service_id)
        if row is not None and row.state == state:
            continue
        before = row.state if row else "healthy"
        if row is None:
            row = PolicyState(service_id=service_id, state=state, changed_at=now)
            session.add(row)
        row.state, row.changed_at = state, now
        if before != state:
            service = session.get(Service, service_id)
            assert service is not None  # the SLOs' own catalog entry
            catalog.record_event(session=session, service=service, kind="slo.policy_state",
                                 summary=f"Error-budget policy: {before} → {state}"
                                 + (" (production deploys frozen)" if state == "exhausted"
                                    else ""), details={"from": before, "to": state})
            changed.append(service.slug)
    session.flush()
    return changed


def active_override(*, session: Session, service_id: int,
                    now: datetime | None = None) -> PolicyOverride | None:
    """The manager override in force for a service, if any."""
    now = now or utcnow()
    return session.scalar(
        select(PolicyOverride)
        .where(PolicyOverride.service_id == service_id, PolicyOverride.revoked_at.is_(None),
               PolicyOverride.starts_at <= now, PolicyOverride.expires_at > now)
        .order_by(PolicyOverride.expires_at.desc()).limit(1))


def deploy_freeze(*, session: Session, service_id: int, environment: str = "prod",
                  now: datetime | None = None) -> str | None:
    """Why production deploys of the service are frozen, or None when they may proceed."""
    if environment != "prod":
        return None
    if policy_state(session=session, service_id=service_id, now=now) != "exhausted":
        return None
    if active_override(session=session, service_id=service_id, now=now) is not None:
        return None
    service = session.get(Service, service_id)
    return freeze_reason(name=service.name if service else f"service {service_id}",
                         state="exhausted", override=None)


def freeze_reason(*, name: str, state: str, override: PolicyOverride | None) -> str | None:
    """`deploy_freeze` from a policy state and override already at hand (no queries)."""
    if state != "exhausted" or override is not None:
        return None
    return (f"Production deploys of {name} are frozen: its error budget is exhausted. "
            "Only reliability fixes ship until the budget recovers or a manager grants an "
            "override.")


def grant_override(*, session: Session, service: Service, justification: str,
                   hours: int, actor_email: str, now: datetime | None = None
                   ) -> PolicyOverride:
    """Let a frozen service deploy for `hours`, with a written justification."""
    justification = (justification or "").strip()
    if len(justification) < MIN_JUSTIFICATION:
        raise ValueError(f"justification needs at least {MIN_JUSTIFICATION} characters")
    if not 1 <= hours <= MAX_OVERRIDE.total_seconds() // 3600:
        raise ValueError("an override lasts between 1 hour and 7 days")
    now = now or utcnow()
    override = PolicyOverride(service_id=service.id, justification=justification,
                              created_by_email=actor_email, starts_at=now,
                              expires_at=now + timedelta(hours=hours))
    session.add(override)
    session.flush()
    catalog.record_event(
        session=session, service=service, kind="slo.override_granted", actor_email=actor_email,
        summary=f"Deploy freeze overridden until {override.expires_at:%Y-%m-%d %H:%M} UTC: "
                f"{justification}",
        details={"override_id": override.id, "expires_at": override.expires_at.isoformat()})
    return override


def revoke_override(*, session: Session, override: PolicyOverride, actor_email: str,
                    now: datetime | None = None) -> PolicyOverride:
    """End an override before it expires."""
    if override.revoked_at is None:
        override.revoked_at, override.revoked_by_email = now or utcnow(), actor_email
        session.flush()
        catalog.record_event(session=session, service=override.service,
                             kind="slo.override_revoked", actor_email=actor_email,
                             summary="Deploy freeze override revoked",
                             details={"override_id": override.id})
    return override
