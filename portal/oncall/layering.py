"""The layered calendar of a schedule, as Grafana OnCall and PagerDuty draw it: each layer's
rotation, the overrides laid on it, and the final schedule with the hours nobody covers.

Everything is placed on a grid of hour columns counted from the window's start, so a day
of a daylight-saving change is simply 23 or 25 columns wide; the page draws it as a table
with colspans (no JavaScript, no inline styles).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from portal.oncall import layered as stacked
from portal.oncall import rotation, service
from portal.oncall.models import LAYERS, Schedule
from portal.oncall.rotation import Cover, Rotation, Shift

WEEK_CHOICES = (1, 2, 4)
HOUR = timedelta(hours=1)


@dataclass(frozen=True)
class Cell:
    span: int  # hour columns
    shift: Shift | None  # None: nothing in this row then


@dataclass(frozen=True)
class Row:
    key: str
    title: str
    kind: str  # 'rotation' | 'overrides' | 'final'
    cells: list[Cell]


@dataclass(frozen=True)
class Gap:
    layer: str
    starts_at: datetime
    ends_at: datetime

    @property
    def hours(self) -> float:
        """How long nobody covers the layer, in hours."""
        return (self.ends_at - self.starts_at) / HOUR


@dataclass(frozen=True)
class Day:
    day: date
    span: int


@dataclass(frozen=True)
class Layered:
    first_day: date
    weeks: int
    start: datetime
    end: datetime
    hours: int
    days: list[Day]
    rows: list[Row]
    gaps: list[Gap]

    @property
    def earlier(self) -> date:
        """The first day of the same number of weeks before this window."""
        return self.first_day - timedelta(weeks=self.weeks)

    @property
    def later(self) -> date:
        """The first day of the same number of weeks after this window."""
        return self.first_day + timedelta(weeks=self.weeks)


def local_midnight(day: date, zone: ZoneInfo) -> datetime:
    """The UTC instant a local day starts."""
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


def _column(start: datetime, at: datetime) -> int:
    return round((at - start) / HOUR)


def cells(pieces: Sequence[Shift], start: datetime, hours: int) -> list[Cell]:
    """A row's cells: each piece over its hour columns, empty cells between them."""
    out, cursor = [], 0
    for piece in sorted(pieces, key=lambda p: p.starts_at):
        begin, finish = _column(start, piece.starts_at), _column(start, piece.ends_at)
        if finish <= max(begin, cursor):
            continue  # shorter than half an hour: listed, too thin to draw
        if begin > cursor:
            out.append(Cell(begin - cursor, None))
        out.append(Cell(finish - max(begin, cursor), piece))
        cursor = finish
    if cursor < hours:
        out.append(Cell(hours - cursor, None))
    return out


def _rows_of(rot: Rotation | Sequence[stacked.Layer], covers: Sequence[Cover],
             start: datetime, end: datetime) -> tuple[list[Shift], list[Shift]]:
    """A layer's own shifts and its final timeline: a weekly rotation, or the layered
    rotations an imported schedule answers its primary layer from."""
    if isinstance(rot, Rotation):
        return (rotation.rotation_shifts(rot, start, end),
                rotation.timeline(rot, covers, start, end))
    return stacked.rotation_pieces(rot, start, end), stacked.timeline(rot, covers, start, end)


def layered(rotations: dict[str, Rotation | Sequence[stacked.Layer]],
            covers: dict[str, Sequence[Cover]],
            first_day: date, weeks: int, zone: ZoneInfo) -> Layered:
    """Rows per layer (rotation, overrides, final) and the gaps, for `weeks` from a day."""
    days = [first_day + timedelta(days=i) for i in range(7 * weeks + 1)]
    bounds = [local_midnight(d, zone) for d in days]
    start, end = bounds[0], bounds[-1]
    hours = _column(start, end)
    day_spans = [Day(d, _column(start, b) - _column(start, a))
                 for d, a, b in zip(days, bounds, bounds[1:])]
    rotation_rows, override_rows, final_rows, gaps = [], [], [], []
    for layer, rot in rotations.items():
        name = layer.capitalize()
        own, final = _rows_of(rot, covers[layer], start, end)
        rotation_rows.append(Row(f"{layer}-rotation", f"{name} layer", "rotation",
                                 cells(own, start, hours)))
        override_rows.append(Row(f"{layer}-overrides", f"{name} overrides", "overrides",
                                 cells([s for s in final if s.source == "override"], start,
                                       hours)))
        final_rows.append(Row(f"{layer}-final", f"Final: {layer}", "final",
                              cells(final, start, hours)))
        gaps += [Gap(layer, s.starts_at, s.ends_at) for s in rotation.gaps(final)]
    return Layered(first_day, weeks, start, end, hours, day_spans,
                   rotation_rows + override_rows + final_rows, gaps)


def for_schedule(*, session: Session, schedule: Schedule, first_day: date,
                 weeks: int) -> Layered:
    """The layered calendar of a schedule for `weeks` from `first_day` (its local date)."""
    zone = ZoneInfo(schedule.timezone)
    start, end = (local_midnight(first_day + timedelta(days=n), zone) for n in (0, 7 * weeks))
    stacks = service.layers_of(session=session, schedules=[schedule])
    return layered({layer: stacks[schedule.id] if layer == "primary" and schedule.id in stacks
                    else service.rotation_of(schedule, layer) for layer in LAYERS},
                   {layer: service.covers(session=session, schedule=schedule, layer=layer,
                                          start=start, end=end) for layer in LAYERS},
                   first_day, weeks, zone)


def week_start(schedule: Schedule, now: datetime) -> date:
    """The local Monday of the week containing `now` in the schedule's time zone."""
    local = service.local_now(schedule, now).date()
    return local - timedelta(days=local.weekday())
