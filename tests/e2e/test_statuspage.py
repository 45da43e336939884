"""The Acme tenant viewer opens the status page from the home page in a real browser: the
demo catalog's tenant-facing services with 90-day uptime bars, the JSON summary beside it,
and another tenant's page is not found."""
import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.e2e


def test_acme_viewer_opens_the_status_page(sign_in, page: Page, live_url):
    sign_in("tenant_viewer")
    page.locator("#home-status-link").click()
    expect(page).to_have_url(f"{live_url}/status/acme-retail")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Acme Retail status")
    for slug in ("api-gateway", "order", "inventory", "billing"):
        component = page.locator(f"#component-{slug}")
        expect(component).to_be_visible()
        expect(component.locator(".uptime-bar")).to_have_count(90)
    expect(page.locator("#status-overall")).to_be_visible()
    expect(page.locator("#status-maintenance")).to_contain_text("Search cluster rolling upgrade")
    expect(page.locator("#status-subscribe button")).to_have_text("Subscribe")
    summary = page.request.get(f"{live_url}/status/acme-retail/api/v2/summary.json")
    assert summary.ok and summary.headers["cache-control"] == "no-store"
    assert {c["id"] for c in summary.json()["components"]} >= {"api-gateway", "order"}
    assert page.request.get(f"{live_url}/status/globex-outfitters").status == 404
