"""Storage of SLI samples: per-minute good/total counts plus an hourly rollup kept in step,
and exact window sums that read full hours from the rollup and the edges from minutes."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Iterable

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from portal.slo.models import HourlySample, Sample

MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)


@dataclass(frozen=True)
class Counts:
    """Good and total events; `bad` is what the error budget pays for."""
    good: int = 0
    total: int = 0

    @property
    def bad(self) -> int:
        return self.total - self.good

    def __add__(self, other: "Counts") -> "Counts":
        return Counts(self.good + other.good, self.total + other.total)


@dataclass(frozen=True)
class MinuteSample:
    minute: datetime
    good: int
    total: int


def floor_minute(at: datetime) -> datetime:
    """`at` truncated to its minute, in UTC."""
    at = at.astimezone(timezone.utc)
    return at.replace(second=0, microsecond=0)


def floor_hour(at: datetime) -> datetime:
    return floor_minute(at).replace(minute=0)


def ceil_hour(at: datetime) -> datetime:
    floored = floor_hour(at)
    return floored if floored == at else floored + HOUR


def record(*, session: Session, slo_id: int, samples: Iterable[MinuteSample]) -> int:
    """Store minute samples (replacing a minute already stored) and update the hourly rollup."""
    rows = [{"slo_id": slo_id, "minute": floor_minute(s.minute), "good": int(s.good),
             "total": int(s.total)} for s in samples]
    for row in rows:
        if not 0 <= row["good"] <= row["total"]:
            raise ValueError(f"good must be within 0..total, got {row['good']}/{row['total']}")
    if not rows:
        return 0
    # Replacing a minute must take its old value out of the hour first, so the rollup
    # stays the exact sum of its minutes.
    session.execute(text(
        "WITH old AS (DELETE FROM slo_samples WHERE slo_id = :slo_id AND minute = :minute "
        "RETURNING slo_id, minute, good, total) "
        "UPDATE slo_sample_hours h SET good = h.good - old.good, total = h.total - old.total "
        "FROM old WHERE h.slo_id = old.slo_id AND h.hour = date_trunc('hour', old.minute)"),
        rows)
    session.execute(text(
        "INSERT INTO slo_samples (slo_id, minute, good, total) "
        "VALUES (:slo_id, :minute, :good, :total)"), rows)
    hours: dict[datetime, list[int]] = defaultdict(lambda: [0, 0])
    for row in rows:
        bucket = hours[floor_hour(row["minute"])]
        bucket[0] += row["good"]
        bucket[1] += row["total"]
    session.execute(text(
        "INSERT INTO slo_sample_hours (slo_id, hour, good, total) "
        "VALUES (:slo_id, :hour, :good, :total) ON CONFLICT (slo_id, hour) DO UPDATE SET "
        "good = slo_sample_hours.good + excluded.good, "
        "total = slo_sample_hours.total + excluded.total"),
        [{"slo_id": slo_id, "hour": h, "good": g, "total": t} for h, (g, t) in hours.items()])
    session.flush()
    return len(rows)


def _split(start: datetime, end: datetime) -> tuple[tuple[datetime, datetime] | None,
                                                     list[tuple[datetime, datetime]]]:
    """Cut [start, end) into whole hours (read from the rollup) and minute edges."""
    lo, hi = ceil_hour(start), floor_hour(end)
    if hi <= lo:
        return None, [(start, end)]
    edges = [(a, b) for a, b in ((start, lo), (hi, end)) if a < b]
    return (lo, hi), edges


def window_counts(*, session: Session, slo_ids: list[int], end: datetime,
                  windows: dict[str, timedelta]) -> dict[int, dict[str, Counts]]:
    """Exact good/total sums per SLO over each window ending at `end` (a minute boundary)."""
    end = floor_minute(end)
    result = {slo_id: {name: Counts() for name in windows} for slo_id in slo_ids}
    if not slo_ids or not windows:
        return result
    parts: dict[str, list[tuple[datetime, datetime]]] = {"hours": [], "minutes": []}
    members: dict[str, list[tuple[str, tuple[datetime, datetime]]]] = {}
    for name, length in windows.items():
        hours, edges = _split(end - length, end)
        members[name] = ([("hours", hours)] if hours else []) + [("minutes", e) for e in edges]
        for table, span in members[name]:
            if span not in parts[table]:
                parts[table].append(span)
    sums = {("hours", *key): value for key, value in
            _range_sums(session, "slo_sample_hours", "hour", slo_ids, parts["hours"]).items()}
    sums.update({("minutes", *key): value for key, value in
                 _range_sums(session, "slo_samples", "minute", slo_ids, parts["minutes"]).items()})
    for slo_id in slo_ids:
        for name, spans in members.items():
            result[slo_id][name] = sum((sums.get((table, slo_id, span), Counts())
                                        for table, span in spans), Counts())
    return result


def _range_sums(session: Session, table: str, column: str, slo_ids: list[int],
                spans: list[tuple[datetime, datetime]]) -> dict[tuple, Counts]:
    """Sums per (slo id, span), one index range scan each (a LATERAL join), so the cost
    follows the rows in the windows, not the size of the table."""
    if not spans:
        return {}
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
    """Hourly sums in [start, end), hours without samples left out (they are gaps)."""
    rows = session.execute(select(HourlySample.hour, HourlySample.good, HourlySample.total)
                           .where(HourlySample.slo_id == slo_id, HourlySample.hour >= start,
                                  HourlySample.hour < end).order_by(HourlySample.hour))
    return [(hour, Counts(good, total)) for hour, good, total in rows if total > 0]


def minute_series(*, session: Session, slo_id: int, start: datetime,
                  end: datetime) -> list[MinuteSample]:
    """Stored minute samples in [start, end), oldest first."""
    rows = session.execute(select(Sample.minute, Sample.good, Sample.total)
                           .where(Sample.slo_id == slo_id, Sample.minute >= start,
                                  Sample.minute < end).order_by(Sample.minute))
    return [MinuteSample(m, g, t) for m, g, t in rows]


def latest_minute(*, session: Session, slo_id: int) -> datetime | None:
    """The newest stored minute of an SLO, if any."""
    return session.scalar(select(func.max(Sample.minute)).where(Sample.slo_id == slo_id))
