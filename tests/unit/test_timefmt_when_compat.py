"""`when` gives byte for byte what its first, plain implementation gave (copied below),
for many instants, zones, formats and distances from now; and its deferred form leaves
markers that word the same once filled."""
from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from markupsafe import Markup, escape

from portal import timefmt
from portal.timefmt import DEFAULT_FORMAT, deferring_relative, relative, when


def old_when(value, zone="UTC", fmt=DEFAULT_FORMAT, now=None):
    # The implementation before the cached parts, kept as it was.
    if value is None:
        return Markup("")
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    now = now or datetime.now(UTC)
    local = escape(value.astimezone(ZoneInfo(zone)).strftime(fmt))
    instant = value.astimezone(UTC)
    return Markup(f'<time datetime="{escape(instant.isoformat())}" '
                  f'title="{escape(instant.strftime("%Y-%m-%d %H:%M:%S UTC"))}" data-when>'
                  f'{local}<span class="when-rel"> · {escape(relative(value, now))}</span></time>')


NOW = datetime(2026, 3, 29, 1, 30, 15, 123456, tzinfo=UTC)
ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe",
         "Pacific/Chatham", "America/St_Johns"]
FORMATS = [DEFAULT_FORMAT, "%Y-%m-%d %H:%M:%S %Z", "%H:%M:%S %Z", "%Y-%m-%d %H:%M %Z",
           "%d %b <b>&'\"%Z</b>", "%c %z"]
DELTAS = [timedelta(0), timedelta(seconds=-44), timedelta(seconds=50), timedelta(minutes=-12),
          timedelta(hours=-5, minutes=-1), timedelta(days=-2, hours=-13),
          timedelta(days=-70), timedelta(days=400), timedelta(hours=7, microseconds=9)]


def values():
    for delta in DELTAS:
        yield NOW + delta
        yield (NOW + delta).replace(tzinfo=None)  # naive: taken as UTC
        yield (NOW + delta).astimezone(timezone(timedelta(hours=-3, minutes=-30)))
        yield (NOW + delta).astimezone(ZoneInfo("Europe/Berlin"))
    # Around daylight-saving changes, where local times repeat or are skipped.
    for hour in range(-2, 4):
        yield datetime(2026, 3, 29, 1, tzinfo=UTC) + timedelta(hours=hour, minutes=30)
        yield datetime(2026, 11, 1, 6, tzinfo=UTC) + timedelta(hours=hour, minutes=30)


def test_when_is_byte_identical_to_the_plain_implementation():
    checked = 0
    for value, zone, fmt in itertools.product(list(values()), ZONES, FORMATS):
        for _ in range(2):  # the second call comes from the kept parts
            new, old = when(value, zone, fmt, NOW), old_when(value, zone, fmt, NOW)
            assert type(new) is Markup
            assert str(new) == str(old), (value, zone, fmt)
            checked += 1
    assert checked > 1000
    assert str(when(None, "Europe/Berlin")) == str(old_when(None)) == ""


def test_the_default_now_is_the_current_time():
    value = datetime.now(UTC) - timedelta(minutes=3)
    assert str(when(value, "Asia/Kolkata")) == str(old_when(value, "Asia/Kolkata"))


def test_deferred_wording_is_a_marker_per_time_filled_later():
    first, second = NOW - timedelta(minutes=12), NOW - timedelta(days=3)
    with deferring_relative() as instants:
        html = str(when(first, "Europe/Berlin")) + "|" + str(when(second, "UTC", "%H:%M"))
    assert instants == [first, second]
    assert html.count("\x00R0\x00") == 1 and html.count("\x00R1\x00") == 1
    filled = html.replace("\x00R0\x00", relative(first, NOW)).replace(
        "\x00R1\x00", relative(second, NOW))
    assert filled == (str(old_when(first, "Europe/Berlin", now=NOW)) + "|"
                      + str(old_when(second, "UTC", "%H:%M", now=NOW)))
    # Outside the block, the wording is written at once again.
    assert "\x00" not in str(when(first, "UTC", now=NOW))


def test_zone_objects_are_made_once():
    assert timefmt.zone_info("Europe/Berlin") is timefmt.zone_info("Europe/Berlin")
