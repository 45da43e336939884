"""The detail page's charts (Plotly, served locally) and the tables that carry the same data."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from fractions import Fraction

import plotly.graph_objects as go

from portal.slo.samples import HOUR, Counts
from portal.slo.service import ALERT_RULES, SloStatus, budget_fraction

LAYOUT = dict(height=300, margin=dict(l=50, r=20, t=40, b=40), template="plotly_white",
              hovermode="x unified")


@dataclass(frozen=True)
class HourPoint:
    hour: datetime
    counts: Counts | None        # None: no samples that hour (a gap)
    remaining: Fraction          # budget left at the end of the hour, share of the window's


def hourly_points(status: SloStatus, series: list[tuple[datetime, Counts]], start: datetime,
                  end: datetime) -> list[HourPoint]:
    """Every hour of the window with its counts (or a gap) and the budget left after it."""
    known = dict(series)
    allowed_bad = budget_fraction(status.slo.objective) * status.budget.counts.total
    points, bad, hour = [], 0, start
    while hour < end:
        counts = known.get(hour)
        bad += counts.bad if counts else 0
        remaining = 1 - Fraction(bad) / allowed_bad if allowed_bad else Fraction(1)
        points.append(HourPoint(hour, counts, remaining))
        hour += HOUR
    return points


def _sli(c: Counts | None) -> float | None:
    return c.good / c.total * 100 if c and c.total else None


def _burn(c: Counts | None, allowed: Fraction) -> float | None:
    return float(Fraction(c.bad, c.total) / allowed) if c and c.total else None


def figures(status: SloStatus, points: list[HourPoint]) -> dict[str, str]:
    """HTML divs of the burn-down, SLI and burn-rate charts."""
    hours = [p.hour for p in points]
    allowed = budget_fraction(status.slo.objective)
    burndown = go.Figure(go.Scatter(x=hours, y=[float(p.remaining) * 100 for p in points],
                                    mode="lines", name="budget left", fill="tozeroy"))
    burndown.update_layout(title="Error budget left over the window (%)", **LAYOUT)
    burndown.add_hline(y=0, line_color="#c62828")
    sli = go.Figure(go.Scatter(x=hours, y=[_sli(p.counts) for p in points], mode="lines",
                               name="SLI (hourly)", connectgaps=False))
    sli.add_hline(y=float(status.slo.objective), line_dash="dash", line_color="#c62828",
                  annotation_text=f"objective {status.slo.objective}%")
    sli.update_layout(title="SLI per hour (%) — gaps are missing data", **LAYOUT)
    burn = go.Figure(go.Scatter(x=hours, y=[_burn(p.counts, allowed) for p in points],
                                mode="lines", name="burn rate (1h)", connectgaps=False))
    for severity, long_w, short_w, threshold in ALERT_RULES:
        burn.add_hline(y=float(threshold), line_dash="dot",
                       line_color="#c62828" if severity == "page" else "#ef6c00",
                       annotation_text=f"{severity} {float(threshold):g}x ({long_w}/{short_w})")
    burn.update_layout(title="Burn rate per hour with the alert thresholds", yaxis_type="log",
                       **LAYOUT)
    return {name: fig.to_html(full_html=False, include_plotlyjs=False, div_id=f"chart-{name}")
            for name, fig in (("burndown", burndown), ("sli", sli), ("burn", burn))}


@dataclass(frozen=True)
class DayRow:
    day: datetime
    counts: Counts
    hours_with_data: int
    sli: float | None
    burn: float | None
    remaining_end: Fraction


def daily_rows(status: SloStatus, points: list[HourPoint]) -> list[DayRow]:
    """The charts' data per day (newest first), for the tables under them."""
    allowed = budget_fraction(status.slo.objective)
    days: dict[datetime, list[HourPoint]] = {}
    for p in points:
        days.setdefault(p.hour.replace(hour=0), []).append(p)
    rows = []
    for day, pts in days.items():
        counts = sum((p.counts for p in pts if p.counts), Counts())
        rows.append(DayRow(day, counts, sum(1 for p in pts if p.counts), _sli(counts),
                           _burn(counts, allowed), pts[-1].remaining))
    return sorted(rows, key=lambda r: r.day, reverse=True)


def window_start(end: datetime, days: int) -> datetime:
    """The first full hour of a window ending at `end`."""
    start = end - timedelta(days=days)
    return start.replace(minute=0, second=0, microsecond=0)
