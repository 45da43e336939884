"""Expanding a person's notification rules into the moments each channel is tried.

Pure functions of (rules, now, time zone, quiet hours, importance), so the timing is tested
without a database. Quiet hours are wall-clock times in the person's own zone: a window
from 22:00 to 07:00 is 22:00–07:00 local whatever the UTC offset is that night, so the end
moves by an hour in UTC across a DST change, as the person expects.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class Rule:
    """Over `channel`, after `delay_minutes`, then `repeat_count` more times every
    `repeat_interval_minutes`."""
    channel: str
    delay_minutes: int = 0
    repeat_count: int = 0
    repeat_interval_minutes: int = 5


@dataclass(frozen=True)
class QuietHours:
    start: time
    end: time

    def contains(self, local: time) -> bool:
        if self.start == self.end:
            return False
        if self.start < self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end  # crosses midnight

    def end_after(self, moment: datetime, zone: ZoneInfo) -> datetime:
        """The first end of quiet hours after `moment` (which lies inside them), in UTC."""
        local = moment.astimezone(zone)
        day = local.date() if local.time().replace(tzinfo=None) < self.end else \
            local.date() + timedelta(days=1)
        # A wall time in a DST gap is read with the offset before the gap, i.e. just after it.
        return datetime.combine(day, self.end, tzinfo=zone).astimezone(moment.tzinfo)


@dataclass(frozen=True)
class Attempt:
    """One notification to create: which rule (1-based), which repeat (0 = the first)."""
    channel: str
    at: datetime
    rule: int
    repeat: int
    held: bool = False  # moved to the end of quiet hours


def expand(*, rules: list[Rule], now: datetime, zone: ZoneInfo | str = "UTC",
           quiet: QuietHours | None = None, important: bool = False) -> list[Attempt]:
    """Every attempt of `rules` for a page raised at `now`, in time order.

    Important pages go at their moments whatever the hour. Other pages falling in quiet
    hours are held until the quiet hours end, and everything after them moves by the same
    amount, so the person's sequence (e-mail, then SMS two minutes later, ...) keeps its
    spacing instead of arriving all at once when the quiet hours end.
    """
    zone = ZoneInfo(zone) if isinstance(zone, str) else zone
    planned = sorted(
        ((now + timedelta(minutes=rule.delay_minutes + k * rule.repeat_interval_minutes),
          index, k, rule.channel)
         for index, rule in enumerate(rules, start=1)
         for k in range(rule.repeat_count + 1)),
        key=lambda item: (item[0], item[1], item[2]))
    shift, out = timedelta(0), []
    for at, index, repeat, channel in planned:
        at, held = at + shift, False
        if not important and quiet is not None and quiet.contains(
                at.astimezone(zone).time().replace(tzinfo=None)):
            released = quiet.end_after(at, zone)
            shift, at, held = shift + (released - at), released, True
        out.append(Attempt(channel, at, index, repeat, held))
    return out
