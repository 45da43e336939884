"""A developer opens a service and sees its graph, scorecard, runbook and who is on call."""
import re

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.e2e
# Pages with a chart parse the vendored plotly.js (4.8 MB) in <head> before the body shows;
# on a busy 2-core machine that can take longer than Playwright's 5 s default.
LOADING = 30_000


def test_service_page_graph_scorecard_runbook_and_oncall(sign_in, page: Page, live_url):
    sign_in("developer")
    page.locator("#main-nav").get_by_role("link", name="Catalog").click()
    page.get_by_role("link", name="Order Service", exact=True).click()
    expect(page.locator("h1")).to_have_text("Order Service", timeout=LOADING)
    expect(page.locator("#service-graph .main-svg").first).to_be_visible(timeout=LOADING)
    expect(page.locator("#blast-radius")).to_contain_text("API Gateway (Kong)")
    expect(page.locator("#readiness-score")).to_have_text(re.compile(r"^\d+%$"))
    oncall = page.locator("#oncall-service-panel")
    if oncall.count():  # the on-call domain's panel, once that area has landed
        expect(oncall).to_contain_text("On call for Commerce")
    page.locator("#service-runbooks").get_by_role("link", name="Order Service runbook").click()
    expect(page.locator("#runbook-body h2").first).to_have_text("Known failure modes",
                                                                timeout=LOADING)
    expect(page.locator("#runbook-body")).to_contain_text("helm rollback")


def test_scorecard_explains_failures_and_links_to_fixes(sign_in, page: Page, live_url):
    sign_in("manager")
    page.goto(f"{live_url}/catalog/services/stripe/scorecard", timeout=LOADING)
    row = page.locator("#result-runbooks")
    expect(row).to_contain_text("No runbook belongs to this entry.")
    row.get_by_role("link", name="how to fix").click()
    expect(page).to_have_url(re.compile(r"/catalog/readiness-guide#check-runbooks$"))
    expect(page.locator("#check-runbooks")).to_contain_text("How to fix")


def test_graph_page_highlights_spofs_and_shows_a_blast_radius(sign_in, page: Page, live_url):
    sign_in("oncall")
    page.goto(f"{live_url}/catalog/graph", timeout=LOADING)
    expect(page.locator("#catalog-graph .main-svg").first).to_be_visible(timeout=LOADING)
    expect(page.locator("#spofs")).to_contain_text("postgresql")
    page.get_by_label("Blast radius of").select_option("redis")
    page.get_by_role("button", name="Show blast radius").click()
    expect(page.locator("#blast-radius")).to_contain_text("Auth Service", timeout=LOADING)


def test_search_as_you_type_with_htmx(sign_in, page: Page, live_url):
    sign_in("developer")
    page.goto(f"{live_url}/catalog/")
    page.get_by_label("Search the catalog").fill("overselling")
    expect(page.locator("#search-hits")).to_contain_text("Inventory Service")
