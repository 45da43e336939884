"""The disaster-recovery page in a browser: each scenario with RPO and RTO, the way from a
scenario to the affected service's page (its own DR panel) and to the scenario's runbook."""
import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.e2e


def test_dr_table_leads_to_the_service_panel_and_the_runbook(sign_in, live_url, page: Page,
                                                              tmp_path):
    sign_in("oncall")
    page.goto(f"{live_url}/catalog/dr")
    region = page.locator("#dr-prod-cluster-loss")
    expect(region.locator(".dr-rpo")).to_contain_text("< 1 minute")
    expect(region.locator(".dr-rto")).to_contain_text("< 15 minutes")
    expect(page.locator("#dr-scenarios tbody tr")).to_have_count(7)
    page.screenshot(path=str(tmp_path / "dr.png"), full_page=True)
    page.locator("#dr-search-index-loss").get_by_role("link", name="Search Service").click()
    panel = page.locator("#service-dr")
    expect(panel.locator("tr[data-scenario='search-index-loss']")).to_contain_text("< 1 hour")
    panel.locator("tr[data-scenario='search-index-loss']").get_by_role(
        "link", name="runbook").click()
    expect(page.locator("main")).to_contain_text("reindex from PostgreSQL")


def test_tenant_viewers_cannot_open_the_dr_page(sign_in, live_url, page: Page):
    sign_in("tenant_viewer")
    response = page.goto(f"{live_url}/catalog/dr")
    assert response.status == 403
