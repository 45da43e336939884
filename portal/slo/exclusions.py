"""Maintenance exclusions ("budget corrections"): windows of an SLO whose events count neither
as good nor as total, so planned work costs no error budget.

A window is one-off (a start and an end) or recurring (an RFC 5545 RRULE plus a duration).
Starts are wall-clock times in an IANA time zone: a weekly Sunday 02:00 Berlin window is at
01:00 UTC in winter and 00:00 UTC in summer. A duration is real elapsed time. Storage reads
(portal.slo.samples) take whole minutes touched by a window out of every sum.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import cast
from zoneinfo import ZoneInfo, available_timezones

from dateutil.rrule import rrule, rrulestr
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.slo.models import Exclusion, Slo

Span = tuple[datetime, datetime]
MAX_DURATION = timedelta(days=90)
MAX_REASON = 500
MIN_REASON = 3
# Rule parts a maintenance window needs; the time of day comes from the start, so BYHOUR,
# BYMINUTE and BYSECOND (hundreds of windows a day) are left out, as are the rarely used
# parts whose combinations are hard to bound.
RULE_PARTS = {"FREQ", "INTERVAL", "COUNT", "UNTIL", "BYDAY", "BYMONTHDAY", "BYMONTH",
              "BYSETPOS", "WKST"}
RULE_FREQS = {"DAILY": "daily", "WEEKLY": "weekly", "MONTHLY": "monthly", "YEARLY": "yearly"}
_RULE_TEXT = re.compile(r"^[A-Z0-9=;,+\-]{1,300}$")
_LOCAL_TIME = re.compile(r"^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})$", re.ASCII)
_MINUTES = re.compile(r"^\d{1,6}$", re.ASCII)
_UTC = UTC


class ExclusionInvalid(ValueError):
    """The window failed validation; `errors` maps form field names to messages."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


@dataclass(frozen=True)
class ExclusionData:
    starts_local: datetime
    time_zone: str
    duration_minutes: int
    rrule: str | None
    reason: str


@lru_cache(maxsize=1)
def time_zones() -> frozenset[str]:
    """The IANA time zone names this machine knows."""
    return frozenset(available_timezones())


def _local_time(raw: object) -> datetime:
    match = _LOCAL_TIME.match(str(raw or "").strip())
    if not match:
        raise ValueError("a date and time as YYYY-MM-DD HH:MM")
    year, month, day, hour, minute = map(int, match.groups())
    moment = datetime(year, month, day, hour, minute)
    if not 2000 <= moment.year <= 2100:
        raise ValueError("a year from 2000 to 2100")
    return moment


def rule_parts(text: str) -> dict[str, str]:
    """NAME=value parts of an RRULE's text."""
    return dict(part.partition("=")[::2] for part in text.split(";") if part)


def _rule_text(raw: str) -> str:
    text = raw.strip().upper().removeprefix("RRULE:")
    if not _RULE_TEXT.match(text):
        raise ValueError("an RRULE such as FREQ=WEEKLY;BYDAY=SU (letters, digits, = ; , + -)")
    parts = rule_parts(text)
    unknown = sorted(set(parts) - RULE_PARTS)
    if unknown:
        raise ValueError(f"unsupported rule part {unknown[0]}; use "
                         + ", ".join(sorted(RULE_PARTS)))
    if parts.get("FREQ") not in RULE_FREQS:
        raise ValueError("the frequency (FREQ) must be DAILY, WEEKLY, MONTHLY or YEARLY")
    if not re.fullmatch(r"[1-9]\d{0,2}", parts.get("INTERVAL", "1")):
        raise ValueError("INTERVAL must be a whole number from 1 to 999")
    return text


def parse_rule(text: str, start: datetime) -> rrule:
    """The recurrence of `text` from the aware `start`; ValueError says what is wrong."""
    try:
        # One RRULE without forceset=True reads as an rrule, not an rruleset.
        return cast(rrule, rrulestr(text, dtstart=start))
    except (ValueError, TypeError, OverflowError) as exc:
        raise ValueError(f"not a valid RRULE: {exc}") from None


def _ever_occurs(rule: rrule, start: datetime) -> bool:
    """Whether the rule's pattern has any occurrence at all.

    dateutil searches period by period up to the year 9999 for a rule that never matches
    (FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30 takes seconds). The Gregorian calendar repeats every
    400 years, so the same start moved to the last 400 years before 9999 answers the same
    question in at most 400 years of periods."""
    shifted = start.replace(year=start.year + 400 * ((9599 - start.year) // 400))
    return rule.replace(dtstart=shifted, until=None, count=None).after(shifted, inc=True) \
        is not None


def clean(raw: dict) -> ExclusionData:
    """Validate raw form fields (starts, ends or rrule with duration_minutes, time_zone,
    reason); raises ExclusionInvalid listing each problem."""
    errors: dict[str, str] = {}
    zone = str(raw.get("time_zone") or "UTC").strip()
    if zone not in time_zones():
        errors["time_zone"] = "an IANA time zone such as Europe/Berlin or UTC"
        zone = "UTC"
    try:
        starts = _local_time(raw.get("starts"))
    except ValueError as exc:
        errors["starts"] = str(exc)
        starts = None
    reason = " ".join(str(raw.get("reason") or "").split())
    if not MIN_REASON <= len(reason) <= MAX_REASON:
        errors["reason"] = f"between {MIN_REASON} and {MAX_REASON} characters"
    rule_text = str(raw.get("rrule") or "").strip() or None
    if rule_text is None:
        duration = _one_off_length(raw, starts, zone, errors)
    else:
        rule_text, duration = _recurrence(rule_text, raw, starts, zone, errors)
    field = "duration_minutes" if rule_text else "ends"
    if duration is not None and not timedelta(minutes=1) <= duration <= MAX_DURATION:
        errors[field] = "from one minute to 90 days" + ("" if rule_text else " after the start")
    if errors:
        raise ExclusionInvalid(errors)
    assert starts is not None and duration is not None  # without errors both were read
    return ExclusionData(starts_local=starts, time_zone=zone,
                         duration_minutes=int(duration.total_seconds() // 60),
                         rrule=rule_text, reason=reason)


def _one_off_length(raw: dict, starts: datetime | None, zone: str,
                    errors: dict[str, str]) -> timedelta | None:
    """Elapsed time from start to end (None when either is invalid; errors say why)."""
    try:
        ends = _local_time(raw.get("ends"))
    except ValueError as exc:
        errors["ends"] = str(exc)
        return None
    return None if starts is None else _absolute(ends, zone) - _absolute(starts, zone)


def _recurrence(text: str, raw: dict, starts: datetime | None, zone: str,
                errors: dict[str, str]) -> tuple[str, timedelta | None]:
    """The normalised rule text and each window's length (errors say what is invalid)."""
    try:
        text = _rule_text(text)
        if starts is not None:
            first = starts.replace(tzinfo=ZoneInfo(zone))
            if not _ever_occurs(parse_rule(text, first), first):
                raise ValueError("the rule never matches a date")
    except ValueError as exc:
        errors["rrule"] = str(exc)
    minutes = str(raw.get("duration_minutes") or "").strip()
    if not _MINUTES.match(minutes):
        errors["duration_minutes"] = "a whole number of minutes"
        return text, None
    return text, timedelta(minutes=int(minutes))


def _absolute(local: datetime, zone: str) -> datetime:
    return local.replace(tzinfo=ZoneInfo(zone)).astimezone(_UTC)


def occurrences(exclusion: Exclusion, start: datetime, end: datetime) -> list[Span]:
    """The exclusion's windows overlapping [start, end), in UTC and clipped to it."""
    length = timedelta(minutes=exclusion.duration_minutes)
    first = exclusion.starts_local.replace(tzinfo=ZoneInfo(exclusion.time_zone))
    if exclusion.rrule:
        rule = parse_rule(exclusion.rrule, first)
        starts = [at.astimezone(_UTC) for at in rule.between(start - length, end, inc=True)]
    else:
        starts = [first.astimezone(_UTC)]
    # The length is added in UTC: a two-hour window lasts two hours even across a DST change.
    clipped = [(max(a, start), min(a + length, end)) for a in starts]
    return [(a, b) for a, b in clipped if a < b]


def merge(spans: list[Span]) -> list[Span]:
    """Overlapping or touching spans joined, oldest first."""
    out: list[Span] = []
    for a, b in sorted(spans):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def excluded_spans(*, session: Session, slo_ids: list[int], start: datetime,
                   end: datetime) -> dict[int, list[Span]]:
    """Per SLO id, its excluded time within [start, end) as disjoint UTC spans."""
    found: dict[int, list[Span]] = {}
    for exclusion in session.scalars(select(Exclusion).where(Exclusion.slo_id.in_(slo_ids))):
        found.setdefault(exclusion.slo_id, []).extend(occurrences(exclusion, start, end))
    return {slo_id: merge(spans) for slo_id, spans in found.items() if spans}


def create(*, session: Session, slo: Slo, data: ExclusionData, actor_email: str) -> Exclusion:
    """Add a maintenance exclusion to an SLO."""
    exclusion = Exclusion(slo_id=slo.id, starts_local=data.starts_local,
                          time_zone=data.time_zone, duration_minutes=data.duration_minutes,
                          rrule=data.rrule, reason=data.reason, created_by_email=actor_email)
    session.add(exclusion)
    session.flush()
    return exclusion


def get(*, session: Session, exclusion_id: int) -> Exclusion | None:
    """One exclusion by id."""
    return session.get(Exclusion, exclusion_id)


def delete(*, session: Session, exclusion: Exclusion) -> None:
    """Remove an exclusion: its past windows count against the budget again."""
    session.delete(exclusion)
    session.flush()


def list_for(*, session: Session, slo_id: int) -> list[Exclusion]:
    """An SLO's exclusions, by start."""
    return list(session.scalars(select(Exclusion).where(Exclusion.slo_id == slo_id)
                                .order_by(Exclusion.starts_local, Exclusion.id)))


def describe(exclusion: Exclusion) -> str:
    """The window in words, e.g. 'weekly (FREQ=WEEKLY;BYDAY=SU) from 2026-03-01 02:00
    Europe/Berlin, 2 h each'."""
    start = f"{exclusion.starts_local:%Y-%m-%d %H:%M} {exclusion.time_zone}"
    length = _length(exclusion.duration_minutes)
    if not exclusion.rrule:
        return f"once from {start}, {length}"
    freq = RULE_FREQS[rule_parts(exclusion.rrule)["FREQ"]]
    return f"{freq} ({exclusion.rrule}) from {start}, {length} each"


def _length(minutes: int) -> str:
    days, rest = divmod(minutes, 1440)
    hours, mins = divmod(rest, 60)
    words = [f"{n} {unit}" for n, unit in ((days, "d"), (hours, "h"), (mins, "min")) if n]
    return " ".join(words)
