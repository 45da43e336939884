"""Teams from the identity provider in a real browser: the service page lists the owning
team's people, the home page lists the team's services, the schedule offers the team first
and flags shifts held outside it."""
import os

import pytest
from playwright.sync_api import Page, expect

from portal.auth import oidc_accounts
from portal.auth import service as accounts
from portal.extensions import db

pytestmark = pytest.mark.e2e
SHOTS = os.environ.get("PORTAL_E2E_SHOTS")  # a folder to keep screenshots in, when set


def _set_team(app, email: str, slugs: tuple[str, ...]) -> None:
    with app.app_context(), db.session_scope() as session:
        user = accounts.get_by_email(session=session, email=email)
        oidc_accounts.set_teams(session=session, user=user, team_slugs=slugs)


@pytest.fixture
def commerce_members(e2e_app):
    """The demo manager and developer in the commerce team, for this test only."""
    people = ("manager@meridian.example", "dev@meridian.example")
    for email in people:
        _set_team(e2e_app, email, ("commerce",))
    yield
    for email in people:
        _set_team(e2e_app, email, ())


def _shot(page: Page, name: str) -> None:
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, f"{name}.png"), full_page=True)


def test_team_people_services_and_candidates(sign_in, page: Page, live_url, commerce_members):
    sign_in("manager")
    page.goto(f"{live_url}/catalog/services/order")
    members = page.locator("#team-members")
    expect(members).to_contain_text("Devi Developer")
    expect(members).to_contain_text("manager@meridian.example")
    _shot(page, "service-members")
    page.goto(f"{live_url}/")
    expect(page.locator("#home-my-services")).to_contain_text("Order")
    page.goto(f"{live_url}/oncall/schedules/commerce")
    expect(page.locator("#schedule-owner")).to_have_text("Commerce")
    expect(page.locator("#outside-team")).to_be_visible()
    team_group = page.locator("select[name=user_email] optgroup[label='Team Commerce']")
    expect(team_group.locator("option")).to_have_count(2)
    _shot(page, "schedule-flags")
    page.goto(f"{live_url}/oncall/schedules/commerce/edit")
    expect(page.locator("#candidates-team")).to_contain_text("Devi Developer")
    page.get_by_label("Primary participants, in order (one e-mail per line)").fill(
        "nobody\u0000@meridian.example")
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        page.get_by_role("button", name="Save").click()
    assert answer.value.status == 400  # refused at the edge, never a 500
    page.goto(f"{live_url}/oncall/schedules/commerce/edit")
    page.get_by_label("Primary participants, in order (one e-mail per line)").fill(
        "\uff4e\uff4f\uff42\uff4f\uff44\uff59@meridian.example")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("main form").first).to_contain_text("No active staff account")
    _shot(page, "edit-hostile")
