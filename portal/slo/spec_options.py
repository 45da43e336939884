"""The SLO form's OpenSLO options: display name, rolling or calendar window, budgeting method
and time slices, checked as the OpenSLO import checks them and turned into Slo columns."""
from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from zoneinfo import available_timezones

from portal.slo import openslo_windows
from portal.slo.models import BUDGETING_METHODS
from portal.slo.specs import SpecInvalid

START_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M",
                 "%Y-%m-%d")
# At most a year: a longer calendar window has no samples to count and stepping through
# thousands of years would overflow the date arithmetic.
MAX_CALENDAR = {"d": 366, "w": 52, "M": 12, "Q": 4, "Y": 1}
# Files of the tz database that are not zones of anywhere.
NOT_ZONES = frozenset({"localtime", "Factory", "posixrules"})


@lru_cache(maxsize=1)
def _zones() -> frozenset[str]:
    return frozenset(available_timezones()) - NOT_ZONES


def time_zone(value: str) -> str:
    """An IANA time zone name as given; ValueError unless the tz database knows it."""
    name = value.strip()
    if name not in _zones():
        raise ValueError("an IANA time zone such as Europe/Berlin or UTC")
    openslo_windows.zone(name)
    return name


def calendar_duration(value: str) -> str:
    """A calendar window length such as 1w, 1M or 1Q, up to a year."""
    count, unit = openslo_windows.parse_shorthand(value.strip())
    if unit not in MAX_CALENDAR:
        raise ValueError("a calendar window is counted in d, w, M, Q or Y (e.g. 1w, 1M, 1Q)")
    if count > MAX_CALENDAR[unit]:
        raise ValueError("a calendar window lasts at most a year")
    return f"{count}{unit}"


def calendar_start(value: str, *, today: datetime) -> datetime:
    """Local wall time the calendar windows count from; blank: 1 January of this year."""
    text = value.strip()
    if not text:
        return datetime(today.year, 1, 1)
    for fmt in START_FORMATS:
        try:
            start = datetime.strptime(text, fmt)
        except ValueError:
            continue
        if not 1970 <= start.year <= 2100:
            raise ValueError("a year from 1970 to 2100")
        return start
    raise ValueError("a date and time such as 2026-01-01 00:00")


def slice_window(value: str) -> str:
    """A time slice length (1m to 1w); a bare number is minutes."""
    text = value.strip()
    if re.fullmatch(r"[0-9]{1,6}", text, re.ASCII):
        text = f"{int(text)}m"
    openslo_windows.slice_minutes(text)
    return text


def slice_target(percent: Decimal | None) -> Decimal:
    """A slice target in percent (0 < p <= 100) as the share OpenSLO stores (8 places)."""
    try:
        share = (Decimal(percent) / 100) if percent is not None else None
        if share is None or not 0 < share <= 1 or share != share.quantize(Decimal("1e-8")):
            raise InvalidOperation
    except (InvalidOperation, TypeError):
        raise ValueError(
            "a percentage above 0 and at most 100 with up to 6 decimals, e.g. 95") from None
    return share


def _check(errors: dict[str, str], field: str, parse, *args, **kwargs):
    try:
        return parse(*args, **kwargs)
    except ValueError as exc:
        errors[field] = str(exc)
        return None


def clean(raw: dict, *, now: datetime) -> dict:
    """Slo column values of the form's OpenSLO options (plus window_days for specs.clean);
    raises SpecInvalid naming each form field at fault."""
    errors: dict[str, str] = {}
    out: dict = {"display_name": str(raw.get("display_name") or "").strip()}
    if raw.get("window_kind") == "calendar":
        duration = _check(errors, "calendar_duration", calendar_duration,
                          str(raw.get("calendar_duration") or ""))
        out.update(
            window_duration=duration,
            window_days=openslo_windows.nominal_days(duration) if duration else 30,
            calendar_time_zone=_check(errors, "calendar_time_zone", time_zone,
                                      str(raw.get("calendar_time_zone") or "")),
            calendar_start=_check(errors, "calendar_start", calendar_start,
                                  str(raw.get("calendar_start") or ""), today=now))
    else:
        if raw.get("window_days") is None:
            errors["window_days"] = "Enter the number of days of the rolling window."
        out.update(window_duration=None, window_days=raw.get("window_days"),
                   calendar_time_zone=None, calendar_start=None)
    method = raw.get("budgeting_method") or "Occurrences"
    if method not in BUDGETING_METHODS:
        errors["budgeting_method"] = f"one of {', '.join(BUDGETING_METHODS)}"
    out.update(budgeting_method=method, time_slice_window=None, time_slice_target=None)
    if method in ("Timeslices", "RatioTimeslices"):
        out["time_slice_window"] = _check(errors, "time_slice_window", slice_window,
                                          str(raw.get("time_slice_window") or ""))
        # RatioTimeslices averages the slices' shares: a target is optional there.
        if method == "Timeslices" or raw.get("slice_target_pct") is not None:
            out["time_slice_target"] = _check(errors, "slice_target_pct", slice_target,
                                              raw.get("slice_target_pct"))
    if errors:
        raise SpecInvalid(errors)
    return out
