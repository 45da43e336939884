"""What the SLO pages show of OpenSLO terms (display name, budgeting method, window, alert
policies), charts and CSV over the exact calendar window, the forecast wording and the
overview's sort direction, read from the rendered HTML."""
from __future__ import annotations

import csv
import io
import re
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from portal.catalog import service as catalog
from portal.db import utcnow
from portal.slo import charts, openslo, present, samples
from portal.slo import service as slo_service
from portal.slo.models import Slo
from tests.unit.slo.factories import fill, make_service, make_slo

DATA = Path(__file__).resolve().parents[2] / "data" / "openslo"


@pytest.fixture
def foo(session):
    """The catalog service the hand-written OpenSLO files name (spec.service: foo)."""
    team = catalog.upsert_team(session=session, slug="foo-team", name="Foo team",
                               chat_channel=None)
    return catalog.upsert_service(session=session, slug="foo", team=team, name="Foo",
                                  base_url=None)


def _text(html: str) -> str:
    """The page's text without tags, spaces collapsed, to match words across markup."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def _element(html: str, element_id: str) -> str:
    match = re.search(rf'<(\w+)[^>]*id="{element_id}"[^>]*>(.*?)</\1>', html, re.S)
    assert match, f"no element #{element_id}"
    return _text(match.group(2)).strip()


def _calendar_slices_slo(session, service) -> Slo:
    """A monthly calendar SLO in Europe/Berlin counted in 1-minute slices good at 95 %."""
    slo = make_slo(session, service, name="checkout", objective="99")
    slo.display_name = "Checkout, monthly"
    slo.budgeting_method, slo.time_slice_window = "Timeslices", "1m"
    slo.time_slice_target = Decimal("0.95")
    slo.window_duration, slo.calendar_time_zone = "1M", "Europe/Berlin"
    slo.calendar_start, slo.window_days = datetime(2024, 1, 1), 30
    session.flush()
    return slo


def test_detail_shows_display_name_window_budgeting_and_alert_policies(client, login_as,
                                                                         session, foo):
    openslo.import_documents(session=session,
                             text=(DATA / "valid-inline-ratio-display-name.yaml").read_text())
    slo = session.scalar(select(Slo).where(Slo.name == "foo-slo"))
    session.commit()
    login_as("developer")
    html = client.get(f"/slo/{slo.id}").get_data(as_text=True)
    assert _element(html, "slo-title") == "Foo SLO"
    assert _element(html, "slo-name") == "Foo · foo-slo"
    assert _element(html, "slo-window") == "rolling 28 days"
    assert _element(html, "slo-budgeting") == "Occurrences: each request counts"
    policies = _element(html, "alert-policies")
    for words in ("Foo fast burn", "Page when a month's budget would be gone in two days",
                  "Burn rate above 14.4: burn rate above 14.4x over 1h for 5m", "page",
                  "email"):
        assert words in policies.replace("&#39;", "'")
    assert re.search(r"\d+ good of \d+ events", _element(html, "sli-counts"))


def test_calendar_time_slices_detail_words_and_exact_chart_window(client, login_as, session):
    now = samples.floor_minute(utcnow())
    slo = _calendar_slices_slo(session, make_service(session))
    start, end = slo_service.budget_period(slo, now)
    minutes = min(90, int((now - start).total_seconds() // 60))   # all in this month
    fill(session, slo, end=now, minutes=minutes, good=99, total=100)
    session.commit()
    local = start.astimezone(ZoneInfo("Europe/Berlin"))
    assert (local.day, local.hour, local.minute) == (1, 0, 0)
    login_as("manager")
    html = client.get(f"/slo/{slo.id}").get_data(as_text=True)
    assert _element(html, "slo-title") == "Checkout, monthly"
    assert _element(html, "slo-window") == (
        f"calendar month in Europe/Berlin, started 1 {local:%b}")
    assert _element(html, "slo-budgeting") == (
        "Time slices: 1-minute slices, a slice is good at ≥ 95 %")
    assert _element(html, "sli-counts") == f"{minutes} good of {minutes} slices"
    assert "events" not in _element(html, "sli-counts")
    # The charts cover the calendar month from its first hour: not a nominal 30 days.
    first_hour = samples.floor_hour(start)
    assert first_hour.isoformat() in html
    assert (first_hour - samples.HOUR).isoformat() not in html
    days = re.findall(r"<tr><td>(\d{4}-\d{2}-\d{2})</td>", html)
    assert min(days) == f"{first_hour:%Y-%m-%d}"


def test_csv_has_the_exact_calendar_window(client, login_as, session):
    now = samples.floor_minute(utcnow())
    service = make_service(session)
    slo = _calendar_slices_slo(session, service)
    session.commit()
    login_as("oncall")
    body = client.get(f"/slo/export.csv?service={service.slug}").get_data(as_text=True)
    (row,) = csv.DictReader(io.StringIO(body))
    start, end = slo_service.budget_period(slo, now)
    assert (row["window"], row["budgeting_method"]) == ("1M calendar", "Timeslices")
    assert (row["window_start"], row["window_end"]) == (start.isoformat(), end.isoformat())
    assert float(row["window_days"]) == (end - start).total_seconds() / 86400
    assert 28 <= float(row["window_days"]) <= 31


def test_overview_row_names_the_calendar_window(client, login_as, session):
    service = make_service(session)
    _calendar_slices_slo(session, service)
    session.commit()
    login_as("developer")
    row = client.htmx("GET", f"/slo/?service={service.slug}").get_data(as_text=True)
    assert "/ 1M calendar" in row and "Checkout, monthly" in row and "/ 30d" not in row


@pytest.mark.parametrize("minutes_,words", [(0.2, "1 minute"), (1, "1 minute"),
                                            (2, "2 minutes"), (60, "1 hour"),
                                            (170, "3 hours"), (48 * 60, "2 days"),
                                            (30 * 60, "30 hours"), (59.7, "1 hour"),
                                            (47.7 * 60, "2 days"), (90, "2 hours")])
def test_duration_wording_has_correct_plurals(minutes_, words):
    assert present.duration(timedelta(minutes=minutes_)) == words


def _status(session, *, good: int, total: int, recent: bool) -> slo_service.SloStatus:
    now = samples.floor_minute(utcnow())
    slo = make_slo(session, make_service(session), objective="99")
    fill(session, slo, end=now if recent else now - timedelta(days=2), minutes=30, good=good,
         total=total)
    return slo_service.evaluate(session=session, slos=[slo], now=now)[0]


def test_forecast_wording(session):
    exhausted = _status(session, good=90, total=100, recent=True)
    assert exhausted.exhausts_in == timedelta(0)
    assert present.forecast(exhausted) == "Exhausted"
    assert present.forecast(_status(session, good=100, total=100, recent=False)) == \
        "not burning"
    burning = _status(session, good=9999, total=10000, recent=True)
    assert present.forecast(burning) == present.duration(burning.exhausts_in)
    assert present.forecast(burning) not in ("Exhausted", "not burning")


def test_detail_forecast_of_an_exhausted_budget(client, login_as, session):
    status = _status(session, good=90, total=100, recent=True)
    session.commit()
    login_as("manager")
    html = client.get(f"/slo/{status.slo.id}").get_data(as_text=True)
    card = _element(html, "forecast")
    assert card.startswith("Forecast Exhausted") and "minutes" not in card


@pytest.fixture
def burning(session):
    """Three SLOs burning at 0x, 1x and 10x the sustainable rate, and one without data."""
    now = samples.floor_minute(utcnow())
    team = f"sort-{make_service(session).slug}"
    made = {}
    for name, good in (("aaa", 1000), ("bbb", 999), ("ccc", 990), ("ddd", None)):
        service = make_service(session, team_slug=team)
        service.name = f"{name} service"
        slo = make_slo(session, service, objective="99.9")
        if good is not None:
            fill(session, slo, end=now, minutes=60, good=good, total=1000)
        made[name] = slo
    session.commit()
    return team


def _order(client, query: str) -> list[str]:
    body = client.htmx("GET", f"/slo/?{query}").get_data(as_text=True)
    return re.findall(r'data-slo="svc-[0-9a-f]+/availability" data-state="\w+">\s*<td><a [^>]*>'
                      r"(\w+) service", body)


def _header_link(html: str, key: str) -> tuple[str, str]:
    match = re.search(rf'href="([^"]*)" data-sort="{key}" data-dir="(\w+)">([^<]*)<', html)
    return match.group(1).replace("&amp;", "&"), match.group(3).strip()


def test_sort_directions_match_their_arrows(client, login_as, burning):
    login_as("manager")
    team = f"team={burning}"
    assert _order(client, f"{team}&sort=burn&dir=asc") == ["aaa", "bbb", "ccc", "ddd"]
    assert _order(client, f"{team}&sort=burn&dir=desc") == ["ccc", "bbb", "aaa", "ddd"]
    assert _order(client, f"{team}&sort=sli&dir=asc") == ["ccc", "bbb", "aaa", "ddd"]
    assert _order(client, f"{team}&sort=sli&dir=desc") == ["aaa", "bbb", "ccc", "ddd"]
    assert _order(client, f"{team}&sort=service&dir=desc") == ["ddd", "ccc", "bbb", "aaa"]
    assert client.get(f"/slo/?{team}&sort=burn&dir=up").status_code == 400


def test_clicking_a_column_sorts_worst_first_then_toggles(client, login_as, burning):
    login_as("manager")
    page = client.get(f"/slo/?team={burning}").get_data(as_text=True)
    href, label = _header_link(page, "burn")
    assert "dir=desc" in href and label == "Burn 1h"
    page = client.get(href).get_data(as_text=True)
    assert _order(client, href.split("?", 1)[1]) == ["ccc", "bbb", "aaa", "ddd"]
    assert 'aria-sort="descending"' in page and "Burn 1h ▼" in page
    href, _ = _header_link(page, "burn")
    assert "dir=asc" in href
    assert _order(client, href.split("?", 1)[1]) == ["aaa", "bbb", "ccc", "ddd"]
    assert "Burn 1h ▲" in client.get(href).get_data(as_text=True)
    href, _ = _header_link(page, "service")
    assert "dir=asc" in href
    assert _order(client, href.split("?", 1)[1]) == ["aaa", "bbb", "ccc", "ddd"]


def test_every_imported_example_has_a_readable_detail_page(client, login_as, session, foo):
    for path in sorted(DATA.glob("valid-*.yaml")):
        openslo.import_documents(session=session, text=path.read_text())
    slos = {s.name: s for s in session.scalars(select(Slo).where(Slo.service_id == foo.id))}
    session.commit()
    login_as("oncall")
    pages = {name: client.get(f"/slo/{s.id}") for name, s in slos.items()}
    assert {name: r.status_code for name, r in pages.items()} == dict.fromkeys(slos, 200)
    words = {name: (_element(r.get_data(as_text=True), "slo-window"),
                    _element(r.get_data(as_text=True), "slo-budgeting"))
             for name, r in pages.items()}
    assert words["foo-quarterly-ratio"][0].startswith("calendar quarter in UTC, started 1 ")
    assert words["foo-quarterly-ratio"][1] == (
        "Ratio of time slices: 10-minute slices, each counting with its share of good requests")
    assert words["foo-latency-weekly"] == (
        words["foo-latency-weekly"][0], "Time slices: 5-minute slices, a slice is good at ≥ 95 %")
    assert words["foo-latency-weekly"][0].startswith("calendar week in Europe/Berlin, started ")
    assert words["foo-monthly-availability"][0].startswith(
        "calendar month in America/New_York, started 21 ")
    assert words["foo-monthly-availability"][0].endswith(" 12:30")


@pytest.mark.parametrize("method,window,target", [
    ("Timeslices", "1m", Decimal("0.95")), ("Timeslices", "5m", Decimal("0.95")),
    ("RatioTimeslices", "1m", None), ("Occurrences", None, None)])
def test_burndown_counts_in_the_unit_of_the_budget(session, method, window, target):
    """The chart's last point is the budget the page states, slices or events alike."""
    now = samples.floor_minute(utcnow())
    slo = make_slo(session, make_service(session), objective="90", window_days=7)
    slo.budgeting_method, slo.time_slice_window, slo.time_slice_target = method, window, target
    fill(session, slo, end=now - timedelta(hours=3), minutes=120, good=99, total=100)
    fill(session, slo, end=now, minutes=30, good=80, total=100)
    status = slo_service.evaluate(session=session, slos=[slo], now=now)[0]
    start, _ = slo_service.budget_period(slo, now)
    series, total = charts.budget_series(session=session, status=status, start=start, end=now)
    points = charts.hourly_points(status, series, start, samples.floor_hour(now) + samples.HOUR,
                                  total)
    assert points[0].hour == samples.floor_hour(start)
    assert points[-1].remaining == status.budget.remaining
    assert points[-1].remaining < points[-5].remaining <= 1


def test_ratio_time_slices_detail_reads_in_slices(client, login_as, session):
    now = samples.floor_minute(utcnow())
    slo = make_slo(session, make_service(session), objective="90", window_days=7)
    slo.budgeting_method, slo.time_slice_window = "RatioTimeslices", "1m"
    # Thirty minutes within one UTC day, also just after midnight.
    end = now if now.hour or now.minute >= 30 else now - timedelta(minutes=now.minute)
    fill(session, slo, end=end, minutes=30, good=80, total=100)
    session.commit()
    login_as("developer")
    html = client.get(f"/slo/{slo.id}").get_data(as_text=True)
    assert _element(html, "sli-counts") == "mean share of good requests per slice"
    assert "Good slices" in html and "Total slices" in html
    assert re.search(r"<td>24\.00</td><td>30</td>", html)     # 30 slices at 80 % good
