"""Component states of a status page and the 90-day uptime bars: pure functions of the
incidents, SLO alerts and maintenance windows handed in, so they are tested with a fixed
clock and no database."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

# Best to worst; the worst state that applies wins (Statuspage's component statuses).
STATES = ("operational", "under_maintenance", "degraded_performance", "partial_outage",
          "major_outage")
LABELS = {"operational": "Operational", "under_maintenance": "Under maintenance",
          "degraded_performance": "Degraded performance", "partial_outage": "Partial outage",
          "major_outage": "Major outage"}
# A Sev1 takes a component down; a Sev2 is "partial outage for a subset of customers";
# lower severities only degrade it. A mitigated incident is being monitored: degraded at
# most (see service.incident_spans).
SEVERITY_STATE = {"sev1": "major_outage", "sev2": "partial_outage",
                  "sev3": "degraded_performance", "sev4": "degraded_performance"}
# Fast burn (the SRE Workbook's page condition) means users are failing now; slow burn
# (ticket) means a degradation.
SLO_ALERT_STATE = {"page": "partial_outage", "ticket": "degraded_performance"}
UPTIME_DAYS = 90


def worst(states) -> str:
    """The worst of several states ('operational' for none)."""
    return max(states, key=STATES.index, default="operational")


def incident_state(*, severity: str, reach: str) -> str:
    """What an unmitigated incident does to a component it reaches ('down' or 'degraded')."""
    state = SEVERITY_STATE[severity]
    if reach == "degraded":  # only a non-critical dependency failed: the component slows
        state = min(state, "degraded_performance", key=STATES.index)
    return state


@dataclass(frozen=True)
class Span:
    """A stretch of time during which one component was in `state`."""
    component: str
    state: str
    start: datetime
    end: datetime | None  # None: still going on


def component_state(*, component: str, spans: list[Span], slo_alerts: list[str],
                    now: datetime) -> str:
    """The component's state at `now`: the worst of its current spans and its SLO alerts."""
    current = [s.state for s in spans if s.component == component and s.start <= now
               and (s.end is None or s.end > now)]
    return worst(current + [SLO_ALERT_STATE[a] for a in slo_alerts if a in SLO_ALERT_STATE])


@dataclass(frozen=True)
class Bar:
    day: date
    state: str


def _day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time.min, tzinfo=UTC)
    return start, start + timedelta(days=1)


def uptime_bars(*, component: str, spans: list[Span], today: date,
                days: int = UPTIME_DAYS) -> list[Bar]:
    """One bar per UTC day, oldest first, coloured by the worst state the component had."""
    mine = [s for s in spans if s.component == component]
    bars = []
    for offset in range(days - 1, -1, -1):
        day = today - timedelta(days=offset)
        start, end = _day_bounds(day)
        bars.append(Bar(day, worst(s.state for s in mine if s.start < end
                                   and (s.end is None or s.end > start))))
    return bars


def uptime_percent(*, component: str, spans: list[Span], start: datetime,
                   end: datetime) -> float:
    """Share of [start, end) without a partial or major outage, in percent."""
    down = sorted((max(s.start, start), min(s.end or end, end)) for s in spans
                  if s.component == component and s.state in ("partial_outage", "major_outage"))
    lost, reach = timedelta(0), start
    for a, b in down:  # merge overlaps so concurrent incidents are not counted twice
        a = max(a, reach)
        if b > a:
            lost += b - a
            reach = b
    return round(100 * (1 - lost / (end - start)), 3)
