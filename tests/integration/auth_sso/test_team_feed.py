"""Teams from the identity provider feed the catalog's owners and the on-call schedules:
a service page lists its team's people, a person sees their teams' services as theirs,
a schedule offers its team first and flags shifts of people who left, and a leaver's
notice goes to the owning team's managers."""
from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import event, select

from portal.auth import oidc_accounts
from portal.auth.models import User
from portal.catalog import service as catalog
from portal.catalog import team_members
from portal.db import utcnow
from portal.oncall import candidates, roster_notices
from portal.oncall.models import LayerMember, Schedule
from tests.integration.auth_sso.provider import Browser

pytestmark = pytest.mark.integration

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


@pytest.fixture
def platform(session):
    """The catalog team `platform` (the provider's `sre` group maps to it) and a service."""
    team = catalog.upsert_team(session=session, slug="platform", name="Platform Team",
                               chat_channel="#platform")
    svc = catalog.upsert_service(session=session, slug="feed-gateway", team=team,
                                 name="Feed Gateway", purpose="Edge routing")
    session.commit()
    return team, svc


def _schedule(session, team, primary, slug="platform-rota") -> Schedule:
    schedule = Schedule(slug=slug, name=f"{slug} on-call", timezone="UTC", handoff_weekday=0,
                        handoff_time=time(10, 0), rotation_start=date(2026, 1, 5),
                        team_id=team.id if team else None)
    for position, user in enumerate(primary, start=1):
        schedule.members.append(LayerMember(layer="primary", position=position, user=user))
    session.add(schedule)
    session.commit()
    return schedule


def _user(session, email: str) -> User:
    session.expire_all()
    return session.scalar(select(User).where(User.email == email))


def _members_section(page: str) -> str:
    start = page.index('id="team-members"')
    return page[start:page.index("</section>", start)]


def _override_options(page: str) -> str:
    found = re.search(r'<select[^>]*name="user_email".*?</select>', page, re.S)
    assert found, "the override form has no person select"
    return found.group(0)


def test_provider_groups_feed_service_page_home_and_candidates(provider, sso_app, session,
                                                                platform):
    team, _ = platform
    provider.set_account("ada", email="ada@corp.example", groups=["sre"], name="Ada Feed")
    ada_browser = Browser(sso_app.test_client())
    assert ada_browser.sign_in().status_code == 303
    ada = _user(session, "ada@corp.example")
    _schedule(session, team, [ada])

    provider.set_account("lead", email="lead@corp.example", groups=["eng-leads"],
                         name="Lead Person")
    lead = Browser(sso_app.test_client())
    assert lead.sign_in().status_code == 303

    page = lead.client.get("/catalog/services/feed-gateway").get_data(as_text=True)
    members = _members_section(page)
    assert "Ada Feed" in members and "ada@corp.example" in members and "oncall" in members
    assert "Lead Person" not in members
    team_page = lead.client.get("/incidents/teams/platform").get_data(as_text=True)
    assert "ada@corp.example" in _members_section(team_page)
    # Ada's team owns the service, so her home page lists it as hers; the lead's does not.
    assert "Feed Gateway" in ada_browser.client.get("/").get_data(as_text=True)
    assert "home-my-services" not in lead.client.get("/").get_data(as_text=True)
    schedule_page = lead.client.get("/oncall/schedules/platform-rota").get_data(as_text=True)
    options = _override_options(schedule_page)
    assert options.index('label="Team Platform Team"') < options.index("ada@corp.example")
    assert options.index("ada@corp.example") < options.index('label="Other on-call people"')
    assert 'id="outside-team"' not in schedule_page
    assert 'id="schedule-owner">Platform Team' in schedule_page

    # The provider takes Ada out of the sre group: at her next sign-in she leaves the team
    # (and, as sre also gave the on-call role, she is offered nowhere any more).
    provider.set_account("ada", email="ada@corp.example", groups=["developers"],
                         name="Ada Feed")
    assert Browser(sso_app.test_client()).sign_in().status_code == 303
    page = lead.client.get("/catalog/services/feed-gateway").get_data(as_text=True)
    assert "ada@corp.example" not in _members_section(page)
    schedule_page = lead.client.get("/oncall/schedules/platform-rota").get_data(as_text=True)
    assert "ada@corp.example" not in _override_options(schedule_page)
    assert 'id="outside-team"' not in schedule_page  # nobody left in the team to compare


def test_leaver_is_no_longer_offered_and_their_shifts_are_flagged(session, platform, client,
                                                                  login_as, make_user):
    team, _ = platform
    stays, leaves = make_user("developer"), make_user("developer")
    outsider_oncall = make_user("oncall")
    for person in (stays, leaves):
        oidc_accounts.set_teams(session=session, user=person, team_slugs=("platform",))
    schedule = _schedule(session, team, [stays, leaves])
    offered = candidates.for_schedule(session=session, schedule=schedule)
    assert {u.id for u in offered.members} == {stays.id, leaves.id}
    assert outsider_oncall.id in {u.id for u in offered.others}
    assert leaves.id not in {u.id for u in offered.others}

    oidc_accounts.set_teams(session=session, user=leaves, team_slugs=())
    session.commit()
    offered = candidates.for_schedule(session=session, schedule=schedule)
    assert leaves.id not in {u.id for u in offered.people}
    flagged = candidates.outside_team(session=session, schedule=schedule, candidates=offered,
                                      now=NOW)
    assert [o.user.id for o in flagged] == [leaves.id]
    assert flagged[0].layers == ("primary",) and flagged[0].shifts == 6

    login_as("manager")
    page = client.get("/oncall/schedules/platform-rota").get_data(as_text=True)
    box = page[page.index('id="outside-team"'):]
    assert f'id="outsider-{leaves.id}"' in box and f'id="outsider-{stays.id}"' not in box
    assert "not in team" in page
    assert leaves.email not in _override_options(page)
    # The removed member cannot be chosen for an override even by a hand-made request.
    starts = (utcnow() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    ends = (utcnow() + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")
    refused = client.post_form("/oncall/schedules/platform-rota/overrides", {
        "layer": "primary", "user_email": leaves.email, "starts_at": starts, "ends_at": ends})
    assert refused.status_code == 422
    taken = client.post_form("/oncall/schedules/platform-rota/overrides", {
        "layer": "primary", "user_email": stays.email, "starts_at": starts, "ends_at": ends})
    assert taken.status_code == 303


def test_rotation_edit_offers_the_team_and_refuses_people_never_offered(session, platform,
                                                                        client, login_as,
                                                                        make_user):
    team, _ = platform
    member, stranger = make_user("developer"), make_user("developer")
    rostered = make_user("developer")  # on the rotation from before the team was fed
    oidc_accounts.set_teams(session=session, user=member, team_slugs=("platform",))
    session.commit()
    _schedule(session, team, [rostered])
    login_as("manager")
    page = client.get("/oncall/schedules/platform-rota/edit").get_data(as_text=True)
    team_list = page[page.index('id="candidates-team"'):page.index('id="candidates-others"')]
    assert member.email in team_list and stranger.email not in page
    form = {"timezone": "UTC", "handoff_weekday": "0", "handoff_time": "10:00", "secondary": ""}
    refused = client.post_form("/oncall/schedules/platform-rota/edit",
                               {**form, "primary": f"{member.email}\n{stranger.email}"})
    assert refused.status_code == 422
    assert "neither in the schedule" in refused.get_data(as_text=True)
    saved = client.post_form("/oncall/schedules/platform-rota/edit",
                             {**form, "primary": f"{rostered.email}\n{member.email}"})
    assert saved.status_code == 303


def test_leaver_notice_goes_to_the_owning_teams_manager_only(session, platform, make_user):
    team, _ = platform
    leaver, team_manager = make_user("oncall"), make_user("manager")
    other_manager = make_user("manager")
    oidc_accounts.set_teams(session=session, user=team_manager, team_slugs=("platform",))
    oidc_accounts.set_teams(session=session, user=leaver, team_slugs=("platform",))
    other_team = catalog.upsert_team(session=session, slug="ledger", name="Ledger Team",
                                     chat_channel=None)
    owned = _schedule(session, team, [leaver], slug="owned-rota")
    orphan = _schedule(session, other_team, [leaver], slug="orphan-rota")
    notices = {n.schedule_id: n for n in roster_notices.flag(
        session=session, user_id=leaver.id, email=leaver.email, name=leaver.name,
        link_base="https://portal.test", now=NOW)}
    assert notices[owned.id].payload["to"] == [team_manager.email]
    # The ledger team has no manager among its members: every manager hears of it.
    fallback = notices[orphan.id].payload["to"]
    assert {team_manager.email, other_manager.email} <= set(fallback)
    assert leaver.email not in fallback


def _count_statements(connection, client, path: str) -> int:
    assert client.get(path).status_code == 200  # warm the per-version caches
    seen: list[str] = []

    def count(conn, cursor, statement, *args):
        if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK")):
            seen.append(statement)
    event.listen(connection, "before_cursor_execute", count)
    try:
        response = client.get(path)
    finally:
        event.remove(connection, "before_cursor_execute", count)
    assert response.status_code == 200
    return len(seen)


def _add_members(session, make_user, n: int) -> None:
    for _ in range(n):
        oidc_accounts.set_teams(session=session, user=make_user("developer"),
                                team_slugs=("platform",))
    session.commit()


def test_service_page_reads_members_in_one_statement(session, platform, client, login_as,
                                                     make_user, connection):
    _, svc = platform
    login_as("developer")
    _add_members(session, make_user, 5)
    few = _count_statements(connection, client, "/catalog/services/feed-gateway")
    _add_members(session, make_user, 45)
    many = _count_statements(connection, client, "/catalog/services/feed-gateway")
    assert few == many
    listed = team_members.members(session=session, team=svc.team)
    assert len(listed) == 50
    page = client.get("/catalog/services/feed-gateway").get_data(as_text=True)
    assert all(p.email in page for p in listed)
