"""Shift swaps: two people trade upcoming rotation shifts in one step (two overrides)."""
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from portal.auth.models import AuditEntry
from portal.oncall import service
from portal.oncall.models import Override
from portal.oncall.service import OncallError

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)  # a Saturday


@pytest.fixture
def rota(session, make_user, make_schedule):
    alice, bob, carol = (make_user("oncall") for _ in range(3))
    schedule = make_schedule([alice, bob, carol], [alice], slug="swap-sched",
                             start=date(2026, 1, 5))
    return schedule, alice, bob, carol


def _shifts(session, schedule, layer="primary"):
    return service.swappable_shifts(schedule=schedule, layer=layer, now=NOW)


def test_upcoming_whole_shifts_are_offered(session, rota):
    schedule, *_ = rota
    shifts = _shifts(session, schedule)
    assert len(shifts) == 11  # twelve weeks ahead, minus the running and the clipped one
    assert all(s.starts_at > NOW and s.source == "rotation" for s in shifts)
    # Monday 10:00 Berlin is 09:00 UTC in winter.
    assert shifts[0].starts_at == datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def test_a_swap_makes_each_person_cover_the_others_shift(session, rota):
    schedule, *_ = rota
    mine, theirs = _shifts(session, schedule)[:2]
    first, second = service.swap_shifts(session=session, schedule=schedule, layer="primary",
                                        give=mine.starts_at, take=theirs.starts_at,
                                        actor=None, now=NOW)
    assert (first.user_id, first.starts_at, first.ends_at) == (
        theirs.who.id, mine.starts_at, mine.ends_at)
    assert (second.user_id, second.starts_at) == (mine.who.id, theirs.starts_at)
    assert first.reason == second.reason == f"swap: {mine.who.name} ↔ {theirs.who.name}"
    during_mine = mine.starts_at + timedelta(hours=1)
    assert service.on_call(session=session, schedule=schedule, layer="primary",
                           at=during_mine).who.id == theirs.who.id


@pytest.mark.parametrize("case, message", [
    ("same", "two different shifts"), ("past", "upcoming shifts"),
    ("same-person", "choose someone else"), ("not-a-handoff", "upcoming shifts")])
def test_swaps_that_make_no_sense_are_refused(session, rota, case, message):
    schedule, *_ = rota
    shifts = _shifts(session, schedule)
    give, take = shifts[0].starts_at, shifts[1].starts_at
    if case == "same":
        take = give
    elif case == "past":
        give = NOW - timedelta(days=12)
    elif case == "same-person":
        take = shifts[3].starts_at  # three people rotate: shift 0 and 3 are the same person
    elif case == "not-a-handoff":
        take = take + timedelta(minutes=5)
    with pytest.raises(OncallError, match=message):
        service.swap_shifts(session=session, schedule=schedule, layer="primary", give=give,
                            take=take, actor=None, now=NOW)
    assert session.scalars(select(Override)).all() == []


def test_a_rostered_developer_swaps_their_own_shift(session, make_user, make_schedule):
    oncall, developer = make_user("oncall"), make_user("developer")
    schedule = make_schedule([developer, oncall], slug="swap-dev-rota", start=date(2026, 1, 5))
    shifts = _shifts(session, schedule)
    give = next(s for s in shifts if s.who.id == developer.id)
    take = next(s for s in shifts if s.who.id == oncall.id)
    first, second = service.swap_shifts(session=session, schedule=schedule, layer="primary",
                                        give=give.starts_at, take=take.starts_at,
                                        actor=developer, now=NOW)
    assert (first.user_id, second.user_id) == (oncall.id, developer.id)


def test_without_the_role_only_your_own_shifts_can_be_swapped(session, make_user,
                                                               make_schedule):
    alice, bob, developer = make_user("oncall"), make_user("oncall"), make_user("developer")
    schedule = make_schedule([alice, bob, developer], slug="swap-others",
                             start=date(2026, 1, 5))
    shifts = _shifts(session, schedule)
    give = next(s for s in shifts if s.who.id == alice.id)
    take = next(s for s in shifts if s.who.id == bob.id)
    with pytest.raises(OncallError, match="only swap one of your own shifts"):
        service.swap_shifts(session=session, schedule=schedule, layer="primary",
                            give=give.starts_at, take=take.starts_at, actor=developer, now=NOW)
    assert session.scalars(select(Override)).all() == []


def test_the_schedule_page_swaps_in_one_step_and_audits(client, login_as, session,
                                                        make_user, make_schedule):
    alice, bob = make_user("oncall"), make_user("oncall")
    schedule = make_schedule([alice, bob], slug="swap-page",
                             start=date.today() - timedelta(days=30))
    login_as("oncall")
    page = client.get("/oncall/schedules/swap-page").get_data(as_text=True)
    assert 'id="swap-primary"' in page and "Fewer than two people rotate on the secondary layer" in page
    shifts = service.swappable_shifts(schedule=schedule, layer="primary")
    form = {"layer": "primary", "give": shifts[0].starts_at.isoformat(),
            "take": shifts[1].starts_at.isoformat()}
    assert shifts[0].starts_at.isoformat() in page
    take = page.split('name="take"')[1].split("</select>")[0]
    assert f'selected value="{shifts[1].starts_at.isoformat()}"' in take  # someone else's
    response = client.post_form("/oncall/schedules/swap-page/swaps", form)
    assert response.status_code == 303
    overrides = session.scalars(select(Override).order_by(Override.starts_at)).all()
    assert [o.user_id for o in overrides] == [shifts[1].who.id, shifts[0].who.id]
    entry = session.scalars(select(AuditEntry).where(
        AuditEntry.action == "oncall.shift_swap")).one()
    assert entry.details["override_ids"] == sorted(o.id for o in overrides)


@pytest.mark.parametrize("form, status, text", [
    ({"layer": "tertiary"}, 400, "Layer must be one of"),
    ({"layer": "primary", "give": "yesterday", "take": "2026-01-01T00:00:00+00:00"}, 422,
     "Not a valid choice"),
    ({"layer": "primary"}, 422, "Choose a shift to give"),
])
def test_bad_swap_input_is_a_clear_4xx(client, login_as, make_user, make_schedule, form,
                                       status, text):
    make_schedule([make_user("oncall"), make_user("oncall")], slug="swap-bad",
                  start=date.today() - timedelta(days=30))
    login_as("oncall")
    response = client.post_form("/oncall/schedules/swap-bad/swaps", form)
    assert response.status_code == status and text in response.get_data(as_text=True)


def test_developers_cannot_swap(client, login_as, make_user, make_schedule):
    make_schedule([make_user("oncall"), make_user("oncall")], slug="swap-dev")
    login_as("developer")
    assert client.post_form("/oncall/schedules/swap-dev/swaps",
                            {"layer": "primary"}).status_code == 403
