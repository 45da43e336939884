"""How an SLO's OpenSLO terms read to people: its budgeting method, its window and its
alert policies, in plain words for the detail page, the overview and the CSV."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from portal.slo import openslo_windows
from portal.slo.models import Slo

UNIT_WORDS = {"m": "minute", "h": "hour", "d": "day", "w": "week", "M": "month",
              "Q": "quarter", "Y": "year"}


def percent_of(share: Decimal) -> str:
    """A share such as 0.95 as the percentage '95' (no trailing zeros, no exponent)."""
    text = f"{Decimal(share) * 100:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def share_as_percent(share: Decimal) -> str:
    """A share such as 0.95 as '95 %'."""
    return f"{percent_of(share)} %"


def slice_minutes(slo: Slo) -> int:
    """Minutes of the SLO's time slice; a bare number as written in OpenSLO is minutes."""
    window = slo.time_slice_window or ""
    return openslo_windows.slice_minutes(int(window) if window.isdigit() else window)


def slice_length(minutes: int) -> str:
    """'1-minute', '5-minute', '1-hour' or '1-day': a slice's length as an adjective."""
    for size, unit in ((1440, "day"), (60, "hour")):
        if minutes % size == 0:
            return f"{minutes // size}-{unit}"
    return f"{minutes}-minute"


def budgeting(slo: Slo) -> str:
    """The budgeting method in plain words."""
    if slo.budgeting_method == "Occurrences":
        return "Occurrences: each request counts"
    length = slice_length(slice_minutes(slo))
    if slo.budgeting_method == "Timeslices":
        assert slo.time_slice_target is not None  # saved with every Timeslices SLO
        return (f"Time slices: {length} slices, a slice is good at "
                f"≥ {share_as_percent(slo.time_slice_target)}")
    return (f"Ratio of time slices: {length} slices, each counting with its share of good "
            "requests")


def counted(slo: Slo) -> str:
    """What the budget counts: 'events', or 'slices' under time-slice budgeting."""
    return "events" if slo.budgeting_method == "Occurrences" else "slices"


def _calendar_length(duration: str) -> str:
    count, unit = openslo_windows.parse_shorthand(duration)
    return UNIT_WORDS[unit] if count == 1 else f"{count} {UNIT_WORDS[unit]}s"


def _day(at: datetime, now: datetime) -> str:
    text = f"{at.day} {at:%b}"
    if at.year != now.year:
        text += f" {at.year}"
    if (at.hour, at.minute) != (0, 0):
        text += f" {at:%H:%M}"
    return text


def window(slo: Slo, *, period_start: datetime, now: datetime) -> str:
    """'rolling 28 days' or 'calendar month in Europe/Berlin, started 1 Dec' (the current
    period's start in the window's own time zone)."""
    if not slo.is_calendar:
        return f"rolling {slo.window_days} days"
    # A calendar SLO is saved with its start, zone and duration.
    assert slo.calendar_time_zone and slo.window_duration
    tz = openslo_windows.zone(slo.calendar_time_zone)
    return (f"calendar {_calendar_length(slo.window_duration)} in {slo.calendar_time_zone}, "
            f"started {_day(period_start.astimezone(tz), now.astimezone(tz))}")


def window_short(slo: Slo) -> str:
    """'28d' or '1M calendar': the window in a table cell."""
    return f"{slo.window_duration} calendar" if slo.is_calendar else f"{slo.window_days}d"


@dataclass(frozen=True)
class AlertPolicyRow:
    name: str
    description: str
    conditions: list[str]
    severities: list[str]
    targets: list[str]


def _title(doc: dict) -> str:
    meta = doc.get("metadata") or {}
    return meta.get("displayName") or meta.get("name") or ""


def _condition(doc: dict) -> str:
    rule = (doc.get("spec") or {}).get("condition") or {}
    text = f"burn rate above {rule.get('threshold')}x over {rule.get('lookbackWindow')}"
    if rule.get("alertAfter"):
        text += f" for {rule['alertAfter']}"
    return f"{_title(doc)}: {text}" if _title(doc) else text


def alert_policies(slo: Slo) -> list[AlertPolicyRow]:
    """The SLO's stored alert policies as rows: name, conditions, severity and targets."""
    rows = []
    for policy in slo.alert_policies or []:
        spec = policy.get("spec") or {}
        conditions = spec.get("conditions") or []
        rows.append(AlertPolicyRow(
            name=_title(policy), description=spec.get("description") or "",
            conditions=[_condition(c) for c in conditions],
            severities=[(c.get("spec") or {}).get("severity") or "" for c in conditions],
            targets=[(t.get("spec") or {}).get("target") or _title(t)
                     for t in spec.get("notificationTargets") or []]))
    return rows
