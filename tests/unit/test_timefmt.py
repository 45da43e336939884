"""Times as people read them: local zone, relative wording, the UTC instant on hover."""
from datetime import UTC, datetime, timedelta

import pytest

from portal.timefmt import relative, when

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize("delta, wording", [
    (timedelta(seconds=-10), "just now"), (timedelta(minutes=-12), "12 min ago"),
    (timedelta(minutes=-59, seconds=-59), "59 min ago"), (timedelta(hours=-3), "3 h ago"),
    (timedelta(minutes=20), "in 20 min"), (timedelta(days=-1), "1 day ago"),
    (timedelta(days=-2, hours=-13), "3 days ago"), (timedelta(days=-61), "2 months ago"),
    (timedelta(days=400), "in 1 year"),
])
def test_relative_wording(delta, wording):
    assert relative(NOW + delta, NOW) == wording


def test_when_shows_the_viewers_zone_and_the_utc_instant_on_hover():
    html = str(when(NOW - timedelta(minutes=12), "Europe/Berlin", now=NOW))
    assert 'datetime="2026-12-07T11:48:00+00:00"' in html
    assert 'title="2026-12-07 11:48:00 UTC"' in html
    assert ">07 Dec 12:48 CET<" in html and " · 12 min ago" in html


def test_when_of_nothing_is_empty_and_naive_values_are_utc():
    assert str(when(None)) == ""
    assert "11:48 UTC" in str(when(datetime(2026, 12, 7, 11, 48), now=NOW))
