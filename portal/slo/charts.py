"""The detail page's charts (Plotly, served locally) and the tables that carry the same data."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction

from sqlalchemy.orm import Session

from portal.rendering import figure_html
from portal.slo import openslo_windows, samples, spec_words
from portal.slo.samples import HOUR, Counts
from portal.slo.service import ALERT_RULES, SloStatus, budget_fraction

LAYOUT = {"height": 300, "margin": {"l": 50, "r": 20, "t": 40, "b": 40},
          "hovermode": "x unified", "plot_bgcolor": "white",
          "xaxis": {"gridcolor": "#eee"}, "yaxis": {"gridcolor": "#eee"}}
RED, ORANGE = "#c62828", "#ef6c00"


@dataclass(frozen=True)
class HourPoint:
    hour: datetime
    counts: Counts | None        # None: no samples that hour (a gap)
    remaining: Fraction          # budget left at the end of the hour, share of the window's


def slice_series(status: SloStatus, ratios: list[tuple[datetime, Fraction]]
                 ) -> list[tuple[datetime, Counts]]:
    """Per hour, the time slices starting in it as the budget counts them: good and total
    slices (Timeslices), or the sum of the slices' shares of good events and their number
    (RatioTimeslices)."""
    target = Fraction(str(status.slo.time_slice_target or 0))
    by_ratio = status.slo.budgeting_method == "RatioTimeslices"
    hours: dict[datetime, Counts] = {}
    for start, ratio in ratios:
        good = ratio if by_ratio else int(ratio >= target)
        hour = samples.floor_hour(start)
        hours[hour] = hours.get(hour, Counts()) + Counts(good, 1)
    return sorted(hours.items())


def budget_series(*, session: Session, status: SloStatus, start: datetime, end: datetime
                  ) -> tuple[list[tuple[datetime, Counts]], int]:
    """The hourly counts of the budget period [start, end) in the unit the budget counts
    (events, or time slices), with the total that the budget is a share of."""
    slo = status.slo
    if slo.budgeting_method == "Occurrences":
        series = samples.hourly_series(session=session, slo_id=slo.id,
                                       start=samples.floor_hour(start), end=end)
        return series, status.budget.counts.total
    ratios = openslo_windows.slice_ratios(session=session, slo_id=slo.id, start=start,
                                          end=end, minutes=spec_words.slice_minutes(slo))
    return slice_series(status, ratios), len(ratios)


def hourly_points(status: SloStatus, series: list[tuple[datetime, Counts]], start: datetime,
                  end: datetime, total: int) -> list[HourPoint]:
    """Every hour of the window with its counts (or a gap) and the budget left after it,
    as a share of the budget of `total` events or slices."""
    known = dict(series)
    allowed_bad = budget_fraction(status.slo.objective) * total
    points, hour = [], samples.floor_hour(start)
    bad: int | Fraction = 0
    while hour < end:
        counts = known.get(hour)
        bad += counts.bad if counts else 0
        remaining = 1 - Fraction(bad) / allowed_bad if allowed_bad else Fraction(1)
        points.append(HourPoint(hour, counts, remaining))
        hour += HOUR
    return points


def _sli(c: Counts | None) -> float | None:
    return float(Fraction(c.good) / c.total) * 100 if c and c.total else None


def _burn(c: Counts | None, allowed: Fraction) -> float | None:
    return float(Fraction(c.bad, c.total) / allowed) if c and c.total else None


def _line(y: float, color: str, label: str) -> tuple[dict, dict]:
    """A horizontal threshold line across the plot, with its label."""
    return ({"type": "line", "xref": "paper", "x0": 0, "x1": 1, "y0": y, "y1": y,
             "line": {"color": color, "dash": "dot", "width": 1}},
            {"xref": "paper", "x": 1, "y": y, "text": label, "showarrow": False,
             "xanchor": "right", "yanchor": "bottom", "font": {"size": 10, "color": color}})


def _figure(title: str, x: list, y: list, lines: list[tuple[dict, dict]], **trace) -> dict:
    # Plain dicts rendered without validation: go.Figure with add_hline costs ~0.5 s a chart.
    return {"data": [{"type": "scatter", "mode": "lines", "x": x, "y": y,
                      "connectgaps": False, **trace}],
            "layout": {**LAYOUT, "title": {"text": title, "font": {"size": 14}},
                       "shapes": [shape for shape, _ in lines],
                       "annotations": [note for _, note in lines]}}


def figures(status: SloStatus, points: list[HourPoint]) -> dict[str, str]:
    """HTML divs of the burn-down, SLI and burn-rate charts."""
    hours = [p.hour.isoformat() for p in points]
    allowed = budget_fraction(status.slo.objective)
    objective = float(status.slo.objective)
    figs = {
        "burndown": _figure("Error budget left over the window (%)", hours,
                            [float(p.remaining) * 100 for p in points],
                            [_line(0, RED, "exhausted")], fill="tozeroy",
                            name="budget left"),
        "sli": _figure("SLI per hour (%) — gaps are missing data", hours,
                       [_sli(p.counts) for p in points],
                       [_line(objective, RED, f"objective {objective:g}%")], name="SLI"),
        "burn": _figure("Burn rate per hour with the alert thresholds (x)", hours,
                        [_burn(p.counts, allowed) for p in points],
                        [_line(float(t), RED if sev == "page" else ORANGE,
                               f"{sev} {float(t):g}x ({lw}/{sw})")
                         for sev, lw, sw, t in ALERT_RULES], name="burn rate"),
    }
    return {name: figure_html(fig, div_id=f"chart-{name}") for name, fig in figs.items()}


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

