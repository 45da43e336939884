"""How SLO numbers read to people: budget in words, overview filters and sorting, CSV."""
from __future__ import annotations

import csv
import io
from datetime import timedelta
from fractions import Fraction

from portal.slo.service import BURN_WINDOWS, POLICY_STATES, SloStatus

SORT_KEYS = {
    "service": lambda st: (st.slo.service.name, st.slo.name),
    "objective": lambda st: (st.slo.objective, st.slo.service.name),
    "sli": lambda st: (st.sli is None, st.sli or 0),
    "remaining": lambda st: (st.budget.counts.total == 0, st.budget.remaining),
    "burn": lambda st: (-(st.burn_rates["1h"] or 0),),
    "state": lambda st: (-POLICY_STATES.index(st.policy), st.slo.service.name),
}
BADGE = {"healthy": "ok", "at_risk": "warn", "exhausted": "bad", "ok": "ok", "ticket": "warn",
         "page": "bad", "no_data": ""}


def percent(value: Fraction | None, digits: int = 3) -> str:
    """A share as a percentage, or an em dash for no data."""
    return "—" if value is None else f"{float(value) * 100:.{digits}f}%"


def rate(value: Fraction | None) -> str:
    """A burn rate such as 2.40x."""
    return "—" if value is None else f"{float(value):.2f}x"


def minutes(value: Fraction) -> str:
    """Minutes with one decimal, e.g. 21.6 min."""
    return f"{float(value):.1f} min"


def duration(value: timedelta) -> str:
    """A forecast horizon in the largest sensible unit."""
    hours = value.total_seconds() / 3600
    if hours < 1:
        return f"{max(1, round(hours * 60))} minutes"
    if hours < 48:
        return f"{round(hours)} hours"
    return f"{round(hours / 24)} days"


def budget_in_words(status: SloStatus) -> str:
    """E.g. '12.0 min of 21.6 min left; at this rate exhausted in 3 days'."""
    budget = status.budget
    if not budget.counts.total:
        return "No data in the window yet: the budget cannot be judged."
    if budget.remaining <= 0:
        over = -budget.remaining_minutes
        return (f"Budget exhausted: {minutes(over)} over the {minutes(budget.total_minutes)} "
                f"allowed in {budget.window.days} days.")
    head = f"{minutes(budget.remaining_minutes)} of {minutes(budget.total_minutes)} left"
    if status.exhausts_in is None:
        return f"{head}; not burning at the moment."
    if status.exhausts_in > budget.window:
        return f"{head}; at this rate it outlasts the {budget.window.days}-day window."
    return f"{head}; at this rate exhausted in {duration(status.exhausts_in)}."


def filter_and_sort(statuses: list[SloStatus], *, state: str | None, sort: str,
                    descending: bool) -> list[SloStatus]:
    """Keep the SLOs in `state` (any when None) ordered by a known sort key."""
    if state:
        statuses = [st for st in statuses if st.policy == state]
    return sorted(statuses, key=SORT_KEYS[sort], reverse=descending)


CSV_HEADER = ["service", "team", "slo", "sli_kind", "objective_pct", "window_days", "sli_pct",
              "good_events", "total_events", "budget_remaining_pct", "budget_remaining_min",
              "budget_total_min"] + [f"burn_{w}" for w in BURN_WINDOWS] + [
              "alert", "policy_state"]


def to_csv(statuses: list[SloStatus]) -> str:
    """The overview as CSV (numbers unformatted, empty where there is no data)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_HEADER)
    for st in statuses:
        b = st.budget
        has = bool(b.counts.total)
        writer.writerow([
            st.slo.service.slug, st.slo.service.team.slug, st.slo.name, st.slo.sli_kind,
            str(st.slo.objective), st.slo.window_days,
            f"{float(st.sli) * 100:.6f}" if st.sli is not None else "",
            b.counts.good, b.counts.total,
            f"{float(b.remaining) * 100:.4f}" if has else "",
            f"{float(b.remaining_minutes):.3f}" if has else "", f"{float(b.total_minutes):.3f}",
            *[f"{float(r):.4f}" if r is not None else "" for r in st.burn_rates.values()],
            st.alert, st.policy])
    return out.getvalue()
