"""Search everywhere and the on-call shortcuts, driven from the keyboard only."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from portal.extensions import db
from portal.oncall import paging


@pytest.fixture(scope="module")
def fresh_page(e2e_app):
    with e2e_app.app_context(), db.session_scope() as session:
        page = paging.start_paging(session=session, incident_id=None, severity="sev3",
                                   title="Search index lagging behind",
                                   service_slugs=["search"])
        return page.id


def test_ctrl_k_finds_a_service_and_enter_opens_it(sign_in, page: Page, live_url):
    sign_in("oncall")
    page.wait_for_load_state()  # the page's scripts (and their key handlers) have run
    page.get_by_role("heading", level=1).click()  # the page has the focus, not the browser
    page.keyboard.press("Control+k")
    expect(page.locator("#global-search")).to_be_focused()
    page.keyboard.type("order")
    options = page.locator("#search-results [role=option]")
    expect(options.first).to_contain_text("Order Service")
    expect(page.locator("#global-search")).to_have_attribute("aria-expanded", "true")
    page.keyboard.press("ArrowDown")
    expect(options.first).to_have_attribute("aria-selected", "true")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/catalog/services/order$"))
    page.wait_for_load_state()  # the page's scripts (and their key handlers) have run

    page.get_by_role("heading", level=1).click()
    page.keyboard.press("?")
    expect(page.locator("#shortcuts-help")).to_be_visible()
    expect(page.locator("#shortcuts-help")).to_contain_text("Acknowledge the page")
    page.keyboard.press("Escape")
    expect(page.locator("#shortcuts-help")).to_be_hidden()
    page.keyboard.press("g")
    page.keyboard.press("o")
    expect(page).to_have_url(re.compile(r"/oncall/$"))


def test_a_acknowledges_and_r_resolves_the_page_in_view(sign_in, page: Page, live_url,
                                                        fresh_page):
    sign_in("oncall")
    page.goto(f"{live_url}/oncall/pages/{fresh_page}")
    page.keyboard.press("a")
    expect(page.locator(".flash-success")).to_contain_text(f"Page #{fresh_page} acknowledged")
    page.goto(f"{live_url}/oncall/pages/{fresh_page}")
    expect(page.locator("#page-status")).to_have_text("acked")
    page.get_by_role("heading", level=1).click()  # the keys go to the page, not a field
    page.keyboard.press("r")
    expect(page.locator(".flash-success")).to_contain_text("resolved")
