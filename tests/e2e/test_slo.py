"""A manager reviews error budgets in a real browser: overview, team filter without a reload,
a detail page with its Plotly charts, and the deploy freeze of an exhausted service."""
import re

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.e2e


def test_manager_filters_overview_and_opens_detail_with_charts(sign_in, page: Page, live_url):
    sign_in("manager")
    page.get_by_role("link", name="SLOs").first.click()
    expect(page.get_by_role("heading", name="SLOs and error budgets")).to_be_visible()
    rows = page.locator("#slo-rows tr")
    expect(rows).to_have_count(13)
    expect(page.locator('#slo-rows tr[data-slo="search/availability"]')).to_have_attribute(
        "data-state", "exhausted")
    page.evaluate("window.__same_document = true")
    with page.expect_request(lambda r: "team=discovery" in r.url and
                             r.headers.get("hx-request") == "true"):
        page.locator("#slo-filters select[name=team]").select_option("discovery")
    expect(rows).to_have_count(2)
    expect(page.locator("#slo-rows")).to_contain_text("Search Service")
    assert page.evaluate("window.__same_document") is True      # no page reload
    assert "team=discovery" in page.url                         # bookmarkable
    page.get_by_role("link", name=re.compile("Search Service · availability")).click()
    expect(page.locator("#budget-words")).to_contain_text("Budget exhausted")
    for chart in ("burndown", "sli", "burn"):
        expect(page.locator(f"#chart-{chart} .main-svg").first).to_be_visible()
    expect(page.locator("#daily tbody tr").first).to_be_visible()
    expect(page.locator("#deploy-freeze")).to_contain_text("frozen")


def test_freeze_shows_on_the_exhausted_service_and_home(sign_in, page: Page, live_url):
    sign_in("manager")
    expect(page.locator("#slo-home-panel")).to_contain_text("Search Service")
    page.goto(f"{live_url}/catalog/services/search")
    expect(page.locator("#service-policy-state")).to_have_text("exhausted")
    expect(page.locator("#slo-panel #deploy-freeze")).to_contain_text(
        "Production deploys of Search Service are frozen")
    page.goto(f"{live_url}/catalog/services/billing")
    expect(page.locator("#service-policy-state")).to_have_text("healthy")
    expect(page.locator("#slo-panel #deploy-freeze")).to_have_count(0)
