"""Storage of SLI samples: per-minute good/total counts plus hourly and daily rollups kept
in step, and exact window sums that read whole days and hours from the rollups and only the
ragged edges from minutes (a 30-day window reads ~200 rows per SLO instead of 43,200).

Every read used for budgets, burn rates and charts leaves out the minutes of the SLO's
maintenance exclusions (portal.slo.exclusions); the stored samples themselves stay whole, so
deleting an exclusion brings its minutes back."""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from portal.slo import exclusions
from portal.slo.models import HourlySample, Sample

MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
# (table, time column, unit), coarsest first; the minute table is the source of truth.
LEVELS = (("slo_sample_days", "day", DAY), ("slo_sample_hours", "hour", HOUR),
          ("slo_samples", "minute", MINUTE))
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
ADVISORY_LOCK_SPACE = 0x510  # first key of the per-SLO write locks (second key: SLO id)


@dataclass(frozen=True)
class Counts:
    """Good and total events; `bad` is what the error budget pays for. `good` is a Fraction
    where it sums shares of good events (the charts' RatioTimeslices series)."""
    good: int | Fraction = 0
    total: int = 0

    @property
    def bad(self) -> int | Fraction:
        return self.total - self.good

    def __add__(self, other: Counts) -> Counts:
        return Counts(self.good + other.good, self.total + other.total)

    def __sub__(self, other: Counts) -> Counts:
        return Counts(self.good - other.good, self.total - other.total)


@dataclass(frozen=True)
class MinuteSample:
    minute: datetime
    good: int
    total: int


def floor_to(at: datetime, unit: timedelta) -> datetime:
    """`at` (UTC) truncated to a multiple of `unit` since the epoch (minute, hour, day)."""
    at = at.astimezone(UTC)
    return at - (at - _EPOCH) % unit


def ceil_to(at: datetime, unit: timedelta) -> datetime:
    floored = floor_to(at, unit)
    return floored if floored == at else floored + unit


def floor_minute(at: datetime) -> datetime:
    """`at` truncated to its minute, in UTC."""
    return floor_to(at, MINUTE)


def floor_hour(at: datetime) -> datetime:
    return floor_to(at, HOUR)


def record(*, session: Session, slo_id: int, samples: Iterable[MinuteSample]) -> int:
    """Store minute samples (replacing a minute already stored) and update the rollups."""
    rows: list[dict[str, Any]] = [{"slo_id": slo_id, "minute": floor_minute(s.minute),
                                   "good": int(s.good), "total": int(s.total)} for s in samples]
    for row in rows:
        if not 0 <= row["good"] <= row["total"]:
            raise ValueError(f"good must be within 0..total, got {row['good']}/{row['total']}")
    if not rows:
        return 0
    # The collection and a backfill may store the same minutes at once: taking turns per
    # SLO lets the later one replace what the earlier one committed, instead of both
    # inserting the same key.
    session.execute(text("SELECT pg_advisory_xact_lock(:space, :slo_id)"),
                    {"space": ADVISORY_LOCK_SPACE, "slo_id": slo_id})
    # Replacing a minute must take its old value out of the rollups first, so each stays
    # the exact sum of its minutes.
    for table, column, _ in LEVELS[:-1]:
        session.execute(text(
            f"UPDATE {table} r SET good = r.good - s.good, total = r.total - s.total "
            f"FROM slo_samples s WHERE s.slo_id = :slo_id AND s.minute = :minute "
            f"AND r.slo_id = s.slo_id AND r.{column} = date_trunc('{column}', s.minute, 'UTC')"),
            rows)
    session.execute(text("DELETE FROM slo_samples WHERE slo_id = :slo_id AND minute = :minute"),
                    rows)
    session.execute(text(
        "INSERT INTO slo_samples (slo_id, minute, good, total) "
        "VALUES (:slo_id, :minute, :good, :total)"), rows)
    for table, column, unit in LEVELS[:-1]:
        buckets: dict[datetime, list[int]] = defaultdict(lambda: [0, 0])
        for row in rows:
            bucket = buckets[floor_to(row["minute"], unit)]
            bucket[0] += row["good"]
            bucket[1] += row["total"]
        session.execute(text(
            f"INSERT INTO {table} (slo_id, {column}, good, total) "
            f"VALUES (:slo_id, :at, :good, :total) ON CONFLICT (slo_id, {column}) DO UPDATE "
            f"SET good = {table}.good + excluded.good, total = {table}.total + excluded.total"),
            [{"slo_id": slo_id, "at": at, "good": g, "total": t}
             for at, (g, t) in buckets.items()])
    session.flush()
    return len(rows)


def split(start: datetime, end: datetime, level: int = 0) -> list[tuple[int, datetime, datetime]]:
    """Cut [start, end) into the fewest whole days, hours and minutes: (level, from, to)."""
    if start >= end:
        return []
    unit = LEVELS[level][2]
    if level == len(LEVELS) - 1:
        return [(level, start, end)]
    lo, hi = ceil_to(start, unit), floor_to(end, unit)
    if hi <= lo:
        return split(start, end, level + 1)
    return [(level, lo, hi), *split(start, lo, level + 1), *split(hi, end, level + 1)]


def window_counts(*, session: Session, slo_ids: list[int], end: datetime,
                  windows: dict[str, timedelta]) -> dict[int, dict[str, Counts]]:
    """Exact good/total sums per SLO over each window ending at `end` (a minute boundary)."""
    end = floor_minute(end)
    result = {slo_id: {name: Counts() for name in windows} for slo_id in slo_ids}
    if not slo_ids or not windows:
        return result
    members = {name: split(end - length, end) for name, length in windows.items()}
    spans: dict[int, list[tuple[datetime, datetime]]] = defaultdict(list)
    for parts in members.values():
        for level, a, b in parts:
            if (a, b) not in spans[level]:
                spans[level].append((a, b))
    sums = _level_sums(session, slo_ids, spans)
    for slo_id in slo_ids:
        for name, parts in members.items():
            result[slo_id][name] = sum((sums.get((level, slo_id, (a, b)), Counts())
                                        for level, a, b in parts), Counts())
    excluded = excluded_minutes(session=session, slo_ids=slo_ids,
                                start=end - max(windows.values()), end=end)
    for slo_id, excluded_spans in excluded.items():
        for name, length in windows.items():
            inside = [(max(a, end - length), b) for a, b in excluded_spans if b > end - length]
            result[slo_id][name] -= sum(_span_sums(session, slo_id, inside).values(), Counts())
    return result


def excluded_minutes(*, session: Session, slo_ids: list[int], start: datetime,
                     end: datetime) -> dict[int, list[tuple[datetime, datetime]]]:
    """Per SLO, the whole minutes in [start, end) touched by its maintenance exclusions."""
    found = exclusions.excluded_spans(session=session, slo_ids=slo_ids, start=start, end=end)
    return {slo_id: exclusions.merge([(floor_minute(a), min(ceil_to(b, MINUTE), end))
                                      for a, b in spans])
            for slo_id, spans in found.items()}


def _span_sums(session: Session, slo_id: int, spans: list[tuple[datetime, datetime]]
               ) -> dict[tuple[datetime, datetime], Counts]:
    """Exact sums of one SLO over each minute-aligned span, read like window_counts."""
    parts = {span: split(*span) for span in spans}
    by_level: dict[int, list[tuple[datetime, datetime]]] = defaultdict(list)
    for pieces in parts.values():
        for level, a, b in pieces:
            by_level[level].append((a, b))
    sums: dict[tuple, Counts] = {}
    for level, level_spans in by_level.items():
        table, column, _ = LEVELS[level]
        for (_, span), counts in _range_sums(session, table, column, [slo_id],
                                             level_spans).items():
            sums[(level, span)] = counts
    return {span: sum((sums.get((level, (a, b)), Counts()) for level, a, b in pieces),
                      Counts()) for span, pieces in parts.items()}


def _level_sums(session: Session, slo_ids: list[int],
                spans: dict[int, list[tuple[datetime, datetime]]]) -> dict[tuple, Counts]:
    """Sums per (level, slo id, span) of every level in ONE statement (a UNION ALL of one
    LATERAL range scan per level), so evaluating SLOs costs one round trip, not three."""
    levels = sorted(spans)
    parts: list[str] = []
    params: dict[str, Any] = {"ids": slo_ids}
    for n, level in enumerate(levels):
        table, column, _ = LEVELS[level]
        parts.append(
            f"SELECT {n} AS level, s.id, r.i, x.good, x.total "
            f"FROM unnest(CAST(:ids AS int[])) AS s(id) "
            f"CROSS JOIN unnest(CAST(:starts_{n} AS timestamptz[]), "
            f"CAST(:ends_{n} AS timestamptz[])) WITH ORDINALITY AS r(a, b, i) "
            f"CROSS JOIN LATERAL (SELECT sum(good) AS good, sum(total) AS total FROM {table} "
            f"WHERE slo_id = s.id AND {column} >= r.a AND {column} < r.b) AS x "
            f"WHERE x.total IS NOT NULL")
        params[f"starts_{n}"] = [a for a, _ in spans[level]]
        params[f"ends_{n}"] = [b for _, b in spans[level]]
    if not parts:
        return {}
    rows = session.execute(text(" UNION ALL ".join(parts)), params)
    return {(levels[n], slo_id, spans[levels[n]][i - 1]): Counts(int(good), int(total))
            for n, slo_id, i, good, total in rows}


def _range_sums(session: Session, table: str, column: str, slo_ids: list[int],
                spans: list[tuple[datetime, datetime]]) -> dict[tuple, Counts]:
    """Sums per (slo id, span), one index range scan each (a LATERAL join), so the cost
    follows the rows inside the spans, not the size of the table."""
    rows = session.execute(text(
        f"SELECT s.id, r.i, x.good, x.total FROM unnest(CAST(:ids AS int[])) AS s(id) "
        f"CROSS JOIN unnest(CAST(:starts AS timestamptz[]), CAST(:ends AS timestamptz[])) "
        f"WITH ORDINALITY AS r(a, b, i) "
        f"CROSS JOIN LATERAL (SELECT sum(good) AS good, sum(total) AS total FROM {table} "
        f"WHERE slo_id = s.id AND {column} >= r.a AND {column} < r.b) AS x "
        f"WHERE x.total IS NOT NULL"),
        {"ids": slo_ids, "starts": [a for a, _ in spans], "ends": [b for _, b in spans]})
    return {(slo_id, spans[i - 1]): Counts(int(good), int(total))
            for slo_id, i, good, total in rows}


def hourly_series(*, session: Session, slo_id: int, start: datetime,
                  end: datetime) -> list[tuple[datetime, Counts]]:
    """Hourly sums in [start, end) less excluded minutes, hours without events left out
    (they are gaps)."""
    rows = session.execute(select(HourlySample.hour, HourlySample.good, HourlySample.total)
                           .where(HourlySample.slo_id == slo_id, HourlySample.hour >= start,
                                  HourlySample.hour < end).order_by(HourlySample.hour))
    hours = {hour: Counts(good, total) for hour, good, total in rows}
    excluded = excluded_minutes(session=session, slo_ids=[slo_id], start=start, end=end)
    pieces = [piece for span in excluded.get(slo_id, []) for piece in _hour_pieces(*span)]
    for (a, _), counts in _span_sums(session, slo_id, pieces).items():
        if floor_hour(a) in hours:
            hours[floor_hour(a)] -= counts
    return [(hour, counts) for hour, counts in sorted(hours.items()) if counts.total > 0]


def _hour_pieces(start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """[start, end) cut at each full hour."""
    out, at = [], start
    while at < end:
        out.append((at, min(floor_hour(at) + HOUR, end)))
        at = out[-1][1]
    return out


def minute_series(*, session: Session, slo_id: int, start: datetime,
                  end: datetime) -> list[MinuteSample]:
    """Stored minute samples in [start, end) outside the SLO's exclusions, oldest first."""
    rows = session.execute(select(Sample.minute, Sample.good, Sample.total)
                           .where(Sample.slo_id == slo_id, Sample.minute >= start,
                                  Sample.minute < end).order_by(Sample.minute))
    excluded = excluded_minutes(session=session, slo_ids=[slo_id], start=start,
                                end=end).get(slo_id, [])
    return [MinuteSample(m, g, t) for m, g, t in rows
            if not any(a <= m < b for a, b in excluded)]


def latest_minute(*, session: Session, slo_id: int) -> datetime | None:
    """The newest stored minute of an SLO, if any."""
    return session.scalar(select(func.max(Sample.minute)).where(Sample.slo_id == slo_id))
