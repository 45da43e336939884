"""How SLO numbers read to people: budget in words, overview filters and sorting, CSV."""
from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from fractions import Fraction

from portal.slo import spec_words
from portal.slo.service import BURN_WINDOWS, POLICY_STATES, SloStatus, budget_period

# Each key orders from low to high (None: no data, always listed last); DEFAULT_DESCENDING
# are the columns whose first click shows the worst first, i.e. the highest value.
SORT_KEYS = {
    "service": lambda st: (st.slo.service.name, st.slo.name),
    "objective": lambda st: (st.slo.objective, st.slo.service.name),
    "sli": lambda st: st.sli,
    "remaining": lambda st: st.budget.remaining if st.budget.counts.total else None,
    "burn": lambda st: st.burn_rates["1h"],
    "state": lambda st: (POLICY_STATES.index(st.policy), st.slo.service.name),
}
DEFAULT_DESCENDING = frozenset({"burn", "state"})
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


def _count(number: int, unit: str) -> str:
    return f"{number} {unit}" if number == 1 else f"{number} {unit}s"


def duration(value: timedelta) -> str:
    """A forecast horizon in the largest sensible unit, e.g. '1 minute', '5 hours'."""
    # Rounded before the unit is chosen, so 59.7 minutes reads "1 hour", never "60 minutes".
    minutes_ = max(1, round(value.total_seconds() / 60))
    if minutes_ < 60:
        return _count(minutes_, "minute")
    hours = round(value.total_seconds() / 3600)
    if hours < 48:
        return _count(hours, "hour")
    return _count(round(value.total_seconds() / 86400), "day")


def is_exhausted(status: SloStatus) -> bool:
    """True when the window has data and its budget is used up."""
    return bool(status.budget.counts.total) and status.budget.remaining <= 0


def forecast(status: SloStatus) -> str:
    """The forecast card: 'Exhausted', 'not burning' or the time left at the 1h burn rate."""
    if is_exhausted(status):
        return "Exhausted"
    if status.exhausts_in is None:
        return "not burning"
    return duration(status.exhausts_in)


def _window_phrase(status: SloStatus) -> str:
    slo = status.slo
    if slo.is_calendar:
        return "the current calendar window"
    return f"the {slo.window_days}-day window"


def budget_in_words(status: SloStatus) -> str:
    """E.g. '12.0 min of 21.6 min left; at this rate exhausted in 3 days'."""
    budget = status.budget
    if not budget.counts.total:
        return "No data in the window yet: the budget cannot be judged."
    if budget.remaining <= 0:
        over = -budget.remaining_minutes
        return (f"Budget exhausted: {minutes(over)} over the {minutes(budget.total_minutes)} "
                f"allowed in {_window_phrase(status)}.")
    head = f"{minutes(budget.remaining_minutes)} of {minutes(budget.total_minutes)} left"
    if status.exhausts_in is None:
        return f"{head}; not burning at the moment."
    if status.exhausts_in > budget.window:
        return f"{head}; at this rate it outlasts {_window_phrase(status)}."
    return f"{head}; at this rate exhausted in {duration(status.exhausts_in)}."


def filter_and_sort(statuses: list[SloStatus], *, state: str | None, sort: str,
                    descending: bool) -> list[SloStatus]:
    """Keep the SLOs in `state` (any when None) ordered by a known sort key; SLOs without
    data for the key come last in either direction."""
    if state:
        statuses = [st for st in statuses if st.policy == state]
    key = SORT_KEYS[sort]
    known = [st for st in statuses if key(st) is not None]
    return (sorted(known, key=key, reverse=descending)
            + [st for st in statuses if key(st) is None])


CSV_HEADER = ["service", "team", "slo", "sli_kind", "objective_pct", "window", "window_start",
              "window_end", "window_days", "budgeting_method", "sli_pct",
              "good_events", "total_events", "budget_remaining_pct", "budget_remaining_min",
              "budget_total_min"] + [f"burn_{w}" for w in BURN_WINDOWS] + [
              "alert", "policy_state"]


def to_csv(statuses: list[SloStatus], *, now: datetime) -> str:
    """The overview as CSV (numbers unformatted, empty where there is no data); the window
    is the exact budget period at `now` (UTC), e.g. the whole calendar month."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_HEADER)
    for st in statuses:
        b = st.budget
        has = bool(b.counts.total)
        start, end = budget_period(st.slo, now)
        writer.writerow([
            st.slo.service.slug, st.slo.service.team.slug, st.slo.name, st.slo.sli_kind,
            str(st.slo.objective), spec_words.window_short(st.slo), start.isoformat(),
            end.isoformat(), f"{(end - start).total_seconds() / 86400:g}",
            st.slo.budgeting_method,
            f"{float(st.sli) * 100:.6f}" if st.sli is not None else "",
            b.counts.good, b.counts.total,
            f"{float(b.remaining) * 100:.4f}" if has else "",
            f"{float(b.remaining_minutes):.3f}" if has else "", f"{float(b.total_minutes):.3f}",
            *[f"{float(r):.4f}" if r is not None else "" for r in st.burn_rates.values()],
            st.alert, st.policy])
    return out.getvalue()
