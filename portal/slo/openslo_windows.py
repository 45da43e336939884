"""OpenSLO time: duration shorthands (5m, 4w, 1M, 1Q, 1Y), the current period of a
calendar-aligned window in its time zone, and good/total time slices for the Timeslices and
RatioTimeslices budgeting methods (exact, on the stored minute samples)."""
from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import text
from sqlalchemy.orm import Session

from portal.slo import samples
from portal.slo.samples import Counts, ceil_to, floor_to

# A positive integer and a case-sensitive unit; six digits bound hostile input.
_SHORTHAND = re.compile(r"([1-9][0-9]{0,5})([mhdwMQY])", re.ASCII)
FIXED_UNITS = {"m": timedelta(minutes=1), "h": timedelta(hours=1), "d": timedelta(days=1),
               "w": timedelta(weeks=1)}
MONTHS = {"M": 1, "Q": 3, "Y": 12}
# Nominal days per unit, only to pick the charts' window for a calendar SLO.
NOMINAL_DAYS: dict[str, Fraction | int]
NOMINAL_DAYS = {"m": Fraction(1, 1440), "h": Fraction(1, 24), "d": 1, "w": 7, "M": 30,
                "Q": 91, "Y": 365}


def parse_shorthand(value: object) -> tuple[int, str]:
    """(count, unit) of a duration shorthand; ValueError with a readable message."""
    match = _SHORTHAND.fullmatch(value) if isinstance(value, str) else None
    if not match:
        raise ValueError("expected a duration shorthand: a positive whole number and one of "
                         "m, h, d, w, M, Q, Y (e.g. 30d, 4w, 1M)")
    return int(match.group(1)), match.group(2)


def rolling_days(value: object) -> int:
    """Whole days of a rolling window (d or w); ValueError for anything else."""
    count, unit = parse_shorthand(value)
    if unit not in ("d", "w"):
        raise ValueError("a rolling window is measured in days or weeks (e.g. 28d, 4w)")
    days = count * (7 if unit == "w" else 1)
    if not 1 <= days <= 90:
        raise ValueError("a rolling window lasts from 1 to 90 days")
    return days


def nominal_days(value: str) -> int:
    """Roughly how many days a window lasts, clamped to 1..90 (what the charts show)."""
    count, unit = parse_shorthand(value)
    return int(min(max(count * NOMINAL_DAYS[unit], 1), 90))


def slice_minutes(value: object) -> int:
    """Minutes of a timeSliceWindow: a number of minutes or a shorthand in m, h, d or w."""
    if isinstance(value, int) and not isinstance(value, bool):
        minutes = value
    else:
        count, unit = parse_shorthand(value)
        if unit not in FIXED_UNITS:
            raise ValueError("a time slice is measured in minutes, hours, days or weeks")
        minutes = count * int(FIXED_UNITS[unit].total_seconds()) // 60
    if not 1 <= minutes <= 7 * 24 * 60:
        raise ValueError("a time slice lasts from 1 minute to 1 week")
    return minutes


def zone(name: object) -> ZoneInfo:
    """The IANA time zone called `name`; ValueError when there is none."""
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9_+\-/]{1,64}", name, re.ASCII):
        raise ValueError("expected an IANA time zone name such as Europe/Berlin")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {name!r}") from exc


def _add_months(at: datetime, months: int) -> datetime:
    index = at.year * 12 + at.month - 1 + months
    year, month = divmod(index, 12)
    # The start's day is kept where the month has it; the 31st becomes the month's last day.
    following = datetime(year + (month + 1) // 12, (month + 1) % 12 + 1, 1)
    last_day = (following - timedelta(days=1)).day
    return at.replace(year=year, month=month + 1, day=min(at.day, last_day))


def _step(start: datetime, count: int, unit: str, k: int) -> datetime:
    """The start of window number k (local wall time, no zone)."""
    if unit in MONTHS:
        return _add_months(start, k * count * MONTHS[unit])
    return start + k * count * FIXED_UNITS[unit]


def calendar_period(*, start: datetime, time_zone: str, duration: str,
                    now: datetime) -> tuple[datetime, datetime]:
    """[start, end) in UTC of the calendar window containing `now`.

    Windows follow each other from `start` (local wall time in `time_zone`) every
    `duration`, in both directions, so a start in the past or future still aligns them;
    days, weeks and months are counted on the local calendar, so a day across a
    daylight-saving change lasts 23 or 25 hours.
    """
    tz = zone(time_zone)
    count, unit = parse_shorthand(duration)
    local_now = now.astimezone(tz).replace(tzinfo=None)
    base = start.replace(tzinfo=None)
    if unit in MONTHS:
        months = (local_now.year - base.year) * 12 + local_now.month - base.month
        k = months // (count * MONTHS[unit])
    else:
        k = (local_now - base) // (count * FIXED_UNITS[unit])
    while _step(base, count, unit, k) > local_now:
        k -= 1
    while _step(base, count, unit, k + 1) <= local_now:
        k += 1
    return (_step(base, count, unit, k).replace(tzinfo=tz).astimezone(UTC),
            _step(base, count, unit, k + 1).replace(tzinfo=tz).astimezone(UTC))


def slice_ratios(*, session: Session, slo_id: int, start: datetime, end: datetime,
                 minutes: int) -> list[tuple[datetime, Fraction]]:
    """Start and good/total ratio of each time slice of one SLO in [start, end) with events.

    Slices are `minutes` long on a fixed grid from the Unix epoch, so a slice does not move
    as time passes; only whole slices inside the window count, and a slice without events
    is a gap (neither good nor bad), as minutes are elsewhere.
    """
    width = timedelta(minutes=minutes)
    first, stop = ceil_to(start, width), floor_to(end, width)
    if stop <= first:
        return []
    # Minutes of maintenance exclusions count neither way, as in every other budget read.
    excluded = samples.excluded_minutes(session=session, slo_ids=[slo_id], start=first,
                                        end=stop).get(slo_id, [])
    # Whole-hour or whole-day slices read the rollups (a year of daily slices is 366 rows,
    # not 527,040), unless exclusions cut minutes out of them.
    table, column = next(((t, c) for t, c, unit in samples.LEVELS
                          if not excluded and width % unit == timedelta(0)),
                         ("slo_samples", "minute"))
    rows = session.execute(text(
        f"SELECT floor(extract(epoch FROM {column} - :first) / :width) AS slice, "
        f"sum(good), sum(total) FROM {table} WHERE slo_id = :slo_id "
        f"AND {column} >= :first AND {column} < :stop AND NOT EXISTS (SELECT 1 FROM "
        f"unnest(CAST(:ex_starts AS timestamptz[]), CAST(:ex_ends AS timestamptz[])) "
        f"AS x(a, b) WHERE {column} >= x.a AND {column} < x.b) "
        f"GROUP BY 1 HAVING sum(total) > 0 ORDER BY 1"),
        {"slo_id": slo_id, "first": first, "stop": stop, "width": minutes * 60,
         "ex_starts": [a for a, _ in excluded], "ex_ends": [b for _, b in excluded]})
    return [(first + int(index) * width, Fraction(int(good), int(total)))
            for index, good, total in rows]


def time_slices(*, session: Session, slo_id: int, start: datetime, end: datetime,
                minutes: int, slice_target: Fraction, ratio: bool) -> Counts:
    """Good and total time slices of one SLO in [start, end) as Counts (see slice_ratios).

    With `ratio` (RatioTimeslices) the result is the exact mean of the slices' good/total
    ratios as a fraction, so the budget math on it stays exact.
    """
    ratios = [r for _, r in slice_ratios(session=session, slo_id=slo_id, start=start,
                                         end=end, minutes=minutes)]
    if not ratios:
        return Counts()
    if ratio:
        mean = sum(ratios, Fraction(0)) / len(ratios)
        return Counts(mean.numerator, mean.denominator)
    return Counts(sum(1 for r in ratios if r >= slice_target), len(ratios))
