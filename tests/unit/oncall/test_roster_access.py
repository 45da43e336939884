"""Rostered people, whatever their role, use the on-call pages for their own shifts and
pages; the swap form's preselected pair is always one the swap accepts."""
import re
from datetime import date, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from portal.db import utcnow
from portal.oncall import feeds, forms, service
from portal.oncall.models import Override, Page
from tests.conftest import TEST_PASSWORD


@pytest.fixture
def sign_in(client):
    def login(user):
        response = client.post_form("/login", {"email": user.email, "password": TEST_PASSWORD})
        assert response.status_code == 303
        return user
    return login


def selected(page: str, name: str, form_id: str) -> str | None:
    form = page.split(f'id="{form_id}"')[1].split("</form>")[0]
    options = form.split(f'name="{name}"')[1].split("</select>")[0]
    found = re.search(r'<option selected value="([^"]+)"', options)
    return found.group(1) if found else None


@pytest.fixture
def rota(make_user, make_schedule):
    oncall, developer = make_user("oncall"), make_user("developer")
    schedule = make_schedule([oncall, developer], [], slug="rostered",
                             start=date.today() - timedelta(days=30))
    return schedule, oncall, developer


@pytest.mark.parametrize("url", ["/oncall/", "/oncall/alerts", "/oncall/schedules/rostered"])
def test_a_developer_on_a_rota_opens_the_on_call_pages(client, sign_in, rota, url):
    sign_in(rota[2])
    assert client.get(url).status_code == 200


def test_a_developer_on_a_rota_swaps_with_the_preselected_pair(client, sign_in, rota,
                                                                session):
    schedule, oncall, developer = rota
    sign_in(developer)
    page = client.get("/oncall/schedules/rostered").get_data(as_text=True)
    give, take = (selected(page, name, "swap-primary") for name in ("give", "take"))
    mine = service.swappable_shifts(schedule=schedule, layer="primary")
    assert give == next(s for s in mine if s.who.id == developer.id).starts_at.isoformat()
    assert take == next(s for s in mine if s.who.id == oncall.id).starts_at.isoformat()
    assert "Add an override" not in page  # covers stay with the on-call roles
    response = client.post_form("/oncall/schedules/rostered/swaps",
                                {"layer": "primary", "give": give, "take": take})
    assert response.status_code == 303
    assert {o.user_id for o in session.scalars(select(Override))} == {oncall.id, developer.id}


def test_a_developer_may_not_give_away_someone_elses_shift(client, sign_in, rota, make_user,
                                                           make_schedule):
    schedule = make_schedule([make_user("oncall"), make_user("oncall"), rota[2]],
                             slug="others", start=date.today() - timedelta(days=30))
    sign_in(rota[2])
    theirs = [s for s in service.swappable_shifts(schedule=schedule, layer="primary")
              if s.who.id != rota[2].id]
    response = client.post_form("/oncall/schedules/others/swaps", {
        "layer": "primary", "give": theirs[0].starts_at.isoformat(),
        "take": theirs[1].starts_at.isoformat()})
    assert response.status_code == 422 and "Not a valid choice" in response.get_data(
        as_text=True)


def test_a_developer_not_on_any_rota_is_refused(client, login_as, rota):
    login_as("developer")
    assert client.get("/oncall/schedules/rostered").status_code == 403
    assert client.post_form("/oncall/schedules/rostered/swaps",
                            {"layer": "primary"}).status_code == 403


def test_a_rostered_developer_sees_pages_addressed_to_them_only(client, sign_in, rota,
                                                                 session):
    _, oncall, developer = rota
    due = utcnow()
    mine, theirs = (Page(severity="sev2", title=title, assignee_id=who.id, due_at=due)
                    for title, who in (("Mine to answer", developer), ("Not mine", oncall)))
    session.add_all([mine, theirs])
    session.commit()
    sign_in(developer)
    index = client.get("/oncall/").get_data(as_text=True)
    assert "Mine to answer" in index and "Not mine" not in index
    assert client.get(f"/oncall/pages/{mine.id}").status_code == 200
    assert client.get(f"/oncall/pages/{theirs.id}").status_code == 403
    assert client.post_form(f"/oncall/pages/{theirs.id}/ack").status_code == 403
    assert client.post_form(f"/oncall/pages/{mine.id}/ack").status_code == 303


def test_a_rostered_developer_gets_a_calendar_feed(client, sign_in, rota, session):
    sign_in(rota[2])
    assert client.post_form("/oncall/feed-token").status_code == 303
    token = service.feed_token(session=session, user=rota[2]).token
    assert client.get(f"/oncall/feeds/{token}/me.ics").status_code == 200
    assert feeds.UID_DOMAIN.encode() in client.get(f"/oncall/feeds/{token}/me.ics").data


@pytest.mark.parametrize("layer_people, viewer, own_only, expected", [
    (["a", "a", "b"], "a", False, ("a", "b")),  # the first two shifts are the same person's
    (["a", "b"], "b", True, ("b", "a")),        # a rostered viewer gives their own shift
    (["a", "a"], "a", False, None),             # nobody else to trade with
    (["a", "b"], "c", True, None),              # without the role and not on this layer
])
def test_default_pair_is_always_one_the_swap_accepts(layer_people, viewer, own_only,
                                                     expected):
    shifts = [SimpleNamespace(who=SimpleNamespace(id=layer_people[n % len(layer_people)]),
                              starts_at=n) for n in range(6)]
    offered = [s for s in shifts if s.who.id == viewer] if own_only else shifts
    takeable = [s for s in shifts if s.who.id != viewer] if own_only else shifts
    pair = forms.default_swap(offered, takeable)
    assert (None if pair is None else tuple(s.who.id for s in pair)) == expected


def test_the_home_panel_shows_for_rostered_people_only(client, sign_in, login_as, rota):
    sign_in(rota[2])
    assert 'id="home-oncall-panel"' in client.get("/").get_data(as_text=True)
    client.post_form("/logout")
    login_as("developer")
    assert 'id="home-oncall-panel"' not in client.get("/").get_data(as_text=True)


def _menu(client) -> str:
    page = client.get("/").get_data(as_text=True)
    return page.split('id="main-nav"')[1].split("</nav>")[0]


def test_the_menu_offers_on_call_to_a_rostered_developer_only(client, sign_in, rota,
                                                              make_user):
    sign_in(make_user("developer"))
    assert "/oncall/" not in _menu(client)
    client.post_form("/logout", {})
    sign_in(rota[2])
    assert "/oncall/" in _menu(client)
