"""The layered calendar: rows per layer, overrides and final schedule on an hour grid that
follows DST, gaps found and listed, and the schedule page drawing it (also for htmx)."""
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from portal.oncall import layering, service
from portal.oncall import rotation as r

UTC = UTC
BERLIN = ZoneInfo("Europe/Berlin")


def rot(*people, start=date(2026, 3, 2)):
    return r.Rotation("Europe/Berlin", 0, time(10, 0), start, tuple(people))


def row(cal, key):
    return next(x for x in cal.rows if x.key == key)


def test_rows_and_an_hour_grid_across_spring_forward():
    cal = layering.layered({"primary": rot("ana", "ben"), "secondary": rot("cem")},
                           {"primary": [], "secondary": []}, date(2026, 3, 23), 2, BERLIN)
    assert [x.key for x in cal.rows] == [
        "primary-rotation", "secondary-rotation", "primary-overrides", "secondary-overrides",
        "primary-final", "secondary-final"]
    assert cal.hours == 14 * 24 - 1  # Berlin skips an hour on Sunday 2026-03-29
    assert [d.span for d in cal.days if d.span != 24] == [23]
    assert cal.days[6] == layering.Day(date(2026, 3, 29), 23)
    for x in cal.rows:
        assert sum(c.span for c in x.cells) == cal.hours
    # Hand-offs at 10:00 local: the first block runs from midnight to Monday 10:00.
    first, second = row(cal, "primary-rotation").cells[:2]
    assert (first.shift.who, first.span) == ("ana", 10)
    assert (second.shift.who, second.span) == ("ben", 7 * 24 - 1)
    assert cal.gaps == []


def test_overrides_get_their_row_and_win_in_the_final_one():
    cover = r.Cover("zoe", datetime(2026, 3, 24, 8, 0, tzinfo=UTC),
                    datetime(2026, 3, 25, 8, 0, tzinfo=UTC))
    cal = layering.layered({"primary": rot("ana", "ben")}, {"primary": [cover]},
                           date(2026, 3, 23), 1, BERLIN)
    overrides = [c for c in row(cal, "primary-overrides").cells if c.shift]
    assert [(c.shift.who, c.span) for c in overrides] == [("zoe", 24)]
    final = [(c.shift.who, c.span) for c in row(cal, "primary-final").cells]
    assert final == [("ana", 10), ("ben", 23), ("zoe", 24), ("ben", 110)]  # 167 h: DST


def test_gaps_before_the_rotation_starts_and_on_an_empty_layer_are_listed():
    cal = layering.layered({"primary": rot("ana", start=date(2026, 3, 25)), "secondary": rot()},
                           {"primary": [], "secondary": []}, date(2026, 3, 30), 1, BERLIN)
    # Nobody rotates before Monday 2026-03-30 10:00 (the first Monday on/after the start).
    assert [(g.layer, g.starts_at, g.ends_at) for g in cal.gaps] == [
        ("primary", datetime(2026, 3, 29, 22, 0, tzinfo=UTC),
         datetime(2026, 3, 30, 8, 0, tzinfo=UTC)),
        ("secondary", datetime(2026, 3, 29, 22, 0, tzinfo=UTC),
         datetime(2026, 4, 5, 22, 0, tzinfo=UTC))]
    assert [g.hours for g in cal.gaps] == [10, 168]
    assert [(c.shift.source, c.span) for c in row(cal, "primary-final").cells] == [
        ("gap", 10), ("rotation", 158)]
    assert [c.shift.source for c in row(cal, "secondary-final").cells] == ["gap"]


def test_the_schedule_page_draws_the_calendar_and_htmx_gets_the_fragment(
        client, login_as, make_user, make_schedule):
    make_schedule([make_user("oncall"), make_user("oncall")], [], slug="layered",
                  start=date.today() - timedelta(days=30))
    login_as("oncall")
    page = client.get("/oncall/schedules/layered?weeks=1&from=2026-03-23")
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and 'id="layered-calendar"' in body
    assert body.count('data-row="') == 6 and 'class="block gap"' in body
    assert "secondary</span> nobody on call" in body
    assert "oncall-calendar.css" in body and "<script>" not in body
    fragment = client.htmx("GET", "/oncall/schedules/layered?weeks=4&from=2026-03-23")
    text = fragment.get_data(as_text=True)
    assert '<section id="schedule-calendar"' in text
    assert "<html" not in text and "weeks-4" in text


@pytest.mark.parametrize("query", ["weeks=3", "weeks=%EF%BC%92", "from=2026-02-30",
                                   "from=%EF%BC%92026-01-01", "from=9999-01-01",
                                   "from=2026-01-01%00", "weeks=99999999999999999999"])
def test_bad_calendar_parameters_are_a_clear_400(client, login_as, make_user, make_schedule,
                                                 query):
    make_schedule([make_user("oncall")], slug="layered-bad")
    login_as("oncall")
    response = client.get(f"/oncall/schedules/layered-bad?{query}")
    assert response.status_code == 400
    assert any(text in response.get_data(as_text=True) for text in (
        "Show 1, 2 or 4 weeks", "must be a date like", "two years", "contains a NUL"))


def test_for_schedule_uses_the_stored_overrides(session, make_user, make_schedule):
    ana, zoe = make_user("oncall"), make_user("oncall")
    schedule = make_schedule([ana], slug="layered-db", start=date(2026, 3, 2))
    service.add_override(session=session, schedule=schedule, layer="primary", user=zoe,
                         starts_at=datetime(2026, 3, 24, 8, 0, tzinfo=UTC),
                         ends_at=datetime(2026, 3, 24, 20, 0, tzinfo=UTC), reason="",
                         actor=None)
    cal = layering.for_schedule(session=session, schedule=schedule,
                                first_day=date(2026, 3, 23), weeks=1)
    assert [c.shift.who.id for c in row(cal, "primary-overrides").cells if c.shift] == [zoe.id]
