"""Times as people read them: in the viewer's zone, with "12 min ago" wording, and the UTC
instant on hover.

`when` renders a <time> element; the server writes the local time and the relative
wording as of the render, and static/js/times.js keeps the wording current while the
page stays open, so a board left on a wall screen does not say "just now" for an hour.
"""
from __future__ import annotations

from datetime import UTC, datetime
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


def when(value: datetime | None, zone: str = "UTC", fmt: str = DEFAULT_FORMAT,
         now: datetime | None = None) -> Markup:
    """A <time> element: local time in `zone` and its relative wording; UTC on hover."""
    if value is None:
        return Markup("")
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    now = now or datetime.now(UTC)
    local = escape(value.astimezone(ZoneInfo(zone)).strftime(fmt))
    instant = value.astimezone(UTC)
    # A busy page renders dozens of these: plain formatting, each part escaped, is several
    # times cheaper than Markup.format.
    return Markup(f'<time datetime="{escape(instant.isoformat())}" '
                  f'title="{escape(instant.strftime("%Y-%m-%d %H:%M:%S UTC"))}" data-when>'
                  f'{local}<span class="when-rel"> · {escape(relative(value, now))}</span></time>')
