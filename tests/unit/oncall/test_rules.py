"""Expanding notification rules into moments: delays, repeats, quiet hours in the person's
own time zone (across midnight and daylight-saving changes) and the important bypass."""
from datetime import UTC, datetime, time, timedelta

import pytest

from portal.oncall.rules import QuietHours, Rule, expand

T0 = datetime(2026, 11, 18, 9, 0, tzinfo=UTC)
NIGHT = QuietHours(time(22, 0), time(7, 0))
SMS_THEN_CALLS = [Rule("sms"), Rule("voice", delay_minutes=2, repeat_count=2,
                                    repeat_interval_minutes=5)]


def minutes(attempts, start):
    return [(a.channel, (a.at - start) / timedelta(minutes=1)) for a in attempts]


def test_delays_and_repeats_become_one_attempt_each_in_time_order():
    attempts = expand(rules=SMS_THEN_CALLS + [Rule("email", delay_minutes=4)], now=T0)
    assert minutes(attempts, T0) == [("sms", 0), ("voice", 2), ("email", 4), ("voice", 7),
                                     ("voice", 12)]
    assert [(a.rule, a.repeat) for a in attempts] == [(1, 0), (2, 0), (3, 0), (2, 1), (2, 2)]
    assert not any(a.held for a in attempts)
    assert expand(rules=[], now=T0) == []


def test_quiet_hours_across_midnight_hold_the_sequence_and_keep_its_spacing():
    now = datetime(2026, 11, 18, 22, 30, tzinfo=UTC)  # 23:30 in Berlin (CET)
    attempts = expand(rules=SMS_THEN_CALLS, now=now, zone="Europe/Berlin", quiet=NIGHT)
    released = datetime(2026, 11, 19, 6, 0, tzinfo=UTC)  # 07:00 CET
    assert minutes(attempts, released) == [("sms", 0), ("voice", 2), ("voice", 7),
                                           ("voice", 12)]
    assert attempts[0].held


def test_early_morning_is_released_the_same_day_and_daytime_is_untouched():
    early = datetime(2026, 11, 18, 5, 59, tzinfo=UTC)  # 06:59 CET
    [attempt] = expand(rules=[Rule("email")], now=early, zone="Europe/Berlin", quiet=NIGHT)
    assert attempt.at == datetime(2026, 11, 18, 6, 0, tzinfo=UTC)
    [day] = expand(rules=[Rule("email")], now=T0, zone="Europe/Berlin", quiet=NIGHT)
    assert day.at == T0 and not day.held


def test_only_the_attempts_that_fall_into_quiet_hours_wait():
    now = datetime(2026, 11, 18, 20, 55, tzinfo=UTC)  # 21:55 CET
    attempts = expand(rules=[Rule("email"), Rule("sms", delay_minutes=10)], now=now,
                      zone="Europe/Berlin", quiet=NIGHT)
    assert attempts[0].at == now and not attempts[0].held
    assert attempts[1].at == datetime(2026, 11, 19, 6, 0, tzinfo=UTC) and attempts[1].held


def test_important_pages_ignore_quiet_hours():
    now = datetime(2026, 11, 18, 22, 30, tzinfo=UTC)
    attempts = expand(rules=SMS_THEN_CALLS, now=now, zone="Europe/Berlin", quiet=NIGHT,
                      important=True)
    assert minutes(attempts, now) == [("sms", 0), ("voice", 2), ("voice", 7), ("voice", 12)]


def test_quiet_hours_are_read_in_the_persons_zone_not_utc():
    now = datetime(2026, 11, 19, 3, 0, tzinfo=UTC)  # 22:00 in New York, 03:00 UTC
    [ny] = expand(rules=[Rule("sms")], now=now, zone="America/New_York",
                  quiet=QuietHours(time(21, 0), time(6, 30)))
    assert ny.at == datetime(2026, 11, 19, 11, 30, tzinfo=UTC)  # 06:30 EST
    [utc] = expand(rules=[Rule("sms")], now=now, zone="UTC",
                   quiet=QuietHours(time(21, 0), time(2, 0)))
    assert utc.at == now


@pytest.mark.parametrize("now, released", [
    # Berlin springs forward in the night to Sunday 29 March 2026: 07:00 is CEST, 05:00 UTC.
    (datetime(2026, 3, 28, 22, 0, tzinfo=UTC), datetime(2026, 3, 29, 5, 0, tzinfo=UTC)),
    # ... and falls back in the night to Sunday 25 October 2026: 07:00 is CET, 06:00 UTC.
    (datetime(2026, 10, 24, 21, 0, tzinfo=UTC), datetime(2026, 10, 25, 6, 0, tzinfo=UTC)),
])
def test_the_end_of_quiet_hours_follows_daylight_saving_time(now, released):
    [attempt] = expand(rules=[Rule("voice")], now=now, zone="Europe/Berlin", quiet=NIGHT)
    assert attempt.at == released


def test_a_quiet_end_inside_the_dst_gap_releases_just_after_the_gap():
    # 02:30 does not exist in Berlin on 29 March 2026; the clocks jump from 02:00 to 03:00.
    quiet = QuietHours(time(1, 0), time(2, 30))
    now = datetime(2026, 3, 29, 0, 30, tzinfo=UTC)  # 01:30 CET
    [attempt] = expand(rules=[Rule("email")], now=now, zone="Europe/Berlin", quiet=quiet)
    assert attempt.at == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)  # 03:30 CEST


def test_daytime_quiet_hours_and_an_empty_window():
    lunch = QuietHours(time(12, 0), time(13, 0))
    at_noon = datetime(2026, 11, 18, 12, 15, tzinfo=UTC)
    [held] = expand(rules=[Rule("email")], now=at_noon, quiet=lunch)
    assert held.at == datetime(2026, 11, 18, 13, 0, tzinfo=UTC)
    assert not QuietHours(time(8, 0), time(8, 0)).contains(time(8, 0))
