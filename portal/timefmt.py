"""Times as people read them: in the viewer's zone, with "12 min ago" wording, and the UTC
instant on hover.

`when` renders a <time> element; the server writes the local time and the relative
wording as of the render, and static/js/times.js keeps the wording current while the
page stays open, so a board left on a wall screen does not say "just now" for an hour.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from markupsafe import Markup, escape

DEFAULT_FORMAT = "%d %b %H:%M %Z"


def relative(value: datetime, now: datetime) -> str:
    """'just now', '12 min ago', 'in 3 h', '2 days ago' ... between `value` and `now`."""
    seconds = (value - now).total_seconds()
    ahead, span = seconds > 0, abs(seconds)
    if span < 45:
        return "just now"
    units = ((86400 * 365, "year"), (86400 * 30, "month"), (86400, "day"), (3600, "h"),
             (60, "min"))
    size, unit = next((u for u in units if span >= u[0]), units[-1])
    count = round(span / size) if size >= 86400 else int(span // size)
    if unit in ("year", "month", "day") and count != 1:
        unit += "s"
    amount = f"{count} {unit}"
    return f"in {amount}" if ahead else f"{amount} ago"


def zone_info(name: str) -> ZoneInfo:
    """The ZoneInfo called `name`, made once per process."""
    found = _zones.get(name)
    if found is None:
        found = _zones[name] = ZoneInfo(name)
    return found


_zones: dict[str, ZoneInfo] = {}

# While a render is recorded for reuse (see `deferring_relative`), the relative wording of
# each time is left as a marker, NUL "R" index NUL, and its instant is kept at that index,
# to be worded when the render is shown.
_deferred: ContextVar[list[datetime] | None] = ContextVar("when_deferred", default=None)


@contextmanager
def deferring_relative() -> Iterator[list[datetime]]:
    """Within the block, `when` writes a marker instead of the relative wording: NUL, "R",
    the index of its instant in the list given, NUL."""
    kept: list[datetime] = []
    token = _deferred.set(kept)
    try:
        yield kept
    finally:
        _deferred.reset(token)


@lru_cache(maxsize=4096)
def _parts(value: datetime, zone: str, fmt: str) -> tuple[str, str]:
    # Everything but the relative wording depends only on the instant, zone and format, and
    # a page shows the same few times on every reload. The ISO and UTC forms are digits,
    # letters and punctuation that never need escaping; the local form may carry any text
    # of `fmt`, so it is escaped.
    local = escape(value.astimezone(zone_info(zone)).strftime(fmt))
    instant = value.astimezone(UTC)
    return (f'<time datetime="{instant.isoformat()}" '
            f'title="{instant.strftime("%Y-%m-%d %H:%M:%S UTC")}" data-when>'
            f'{local}<span class="when-rel"> · ', "</span></time>")


def when(value: datetime | None, zone: str = "UTC", fmt: str = DEFAULT_FORMAT,
         now: datetime | None = None) -> Markup:
    """A <time> element: local time in `zone` and its relative wording; UTC on hover."""
    if value is None:
        return Markup("")
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    head, tail = _parts(value, zone, fmt)
    deferred = _deferred.get()
    if deferred is not None:
        deferred.append(value)
        return Markup(f"{head}\x00R{len(deferred) - 1}\x00{tail}")
    # The wording is made of digits, letters and spaces only: nothing to escape.
    return Markup(head + relative(value, now or datetime.now(UTC)) + tail)
