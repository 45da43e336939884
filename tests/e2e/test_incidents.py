"""An incident in a real browser: declare, watch it live from a second browser, resolve,
write the postmortem, read MTTR on the metrics page; the tenant sees the banner."""
import re

import pytest
from playwright.sync_api import Browser, Page, expect

pytestmark = pytest.mark.e2e


def test_declare_watch_live_resolve_postmortem_and_metrics(sign_in, page: Page, browser: Browser,
                                                          live_url):
    sign_in("oncall")
    page.goto(f"{live_url}/incidents/")
    page.locator("#declare-link").click()
    page.wait_for_load_state()
    page.get_by_label("Title").fill("Checkout returns 502 for EU tenants")
    page.locator("#severity").select_option("sev2")
    page.locator("#services").select_option(label="Order Service")
    page.get_by_role("button", name="Declare incident").click()
    expect(page.locator("#incident-summary h1")).to_contain_text("Checkout returns 502")
    incident_url = page.url

    watcher_context = browser.new_context()
    try:
        watcher = sign_in("manager", on=watcher_context.new_page())
        watcher.goto(incident_url)
        expect(watcher.locator("#timeline-entries")).to_contain_text("declared as Sev2")
        watcher.locator("#note-body").fill("half-typed thought")  # must survive the polling

        page.locator("#note-body").fill("Pool **exhausted** on order-service <script>x</script>")
        page.get_by_role("button", name="Add note").click()
        expect(page.locator("#note-body")).to_have_value("")
        expect(page.locator("#timeline-entries")).to_contain_text("Pool exhausted")

        note = watcher.locator("#timeline-entries .entry-note")
        expect(note).to_contain_text("Pool exhausted on order-service", timeout=15_000)
        expect(note.locator("strong")).to_have_text("exhausted")
        assert note.locator("script").count() == 0
        expect(watcher.locator("#note-body")).to_have_value("half-typed thought")
        assert watcher.url == incident_url  # no reload, no navigation

        # A pin on an old entry reaches the other watcher's key events and star, live.
        page.locator("#timeline-entries .entry-note").get_by_role("button", name="pin").click()
        expect(page.locator("#timeline-entries .entry-note")).to_contain_text("★ pinned")
        expect(watcher.locator("#key-events")).to_contain_text("exhausted", timeout=15_000)
        expect(watcher.locator("#timeline-entries .entry-note")).to_contain_text("★ pinned")
        expect(page.locator("#key-events")).to_contain_text("exhausted", timeout=15_000)
        expect(watcher.locator("#note-body")).to_have_value("half-typed thought")

        page.get_by_role("button", name="Acknowledge").click()
        expect(page.locator("#incident-summary [data-status]")).to_have_text("acknowledged")
        page.get_by_role("button", name="Resolve").click()
        expect(page.locator("#incident-summary [data-status]")).to_have_text("resolved")
        expect(watcher.locator("#incident-summary [data-status]")).to_have_text(
            "resolved", timeout=15_000)  # the watcher's header follows too
    finally:
        watcher_context.close()

    page.get_by_role("link", name="Postmortem").click()
    expect(page.locator("#pm-state")).to_contain_text("required")
    expect(page.get_by_label("Timeline")).to_have_value(re.compile("Status triggered"))
    page.get_by_label("Summary").fill("The order-service connection pool was exhausted.")
    page.get_by_label("Root cause").fill("Connections not returned on the exception path.")
    page.get_by_role("button", name="Save and mark complete").click()
    expect(page.locator("#pm-state")).to_contain_text("completed")
    expect(page.locator("#export-md")).to_be_visible()

    page.goto(f"{live_url}/incidents/metrics")
    expect(page.locator("#c-month .main-svg").first).to_be_visible()
    sev2 = page.locator("#t-severity tr", has_text="Sev2")
    expect(sev2).to_have_count(1)
    assert re.search(r"\d+(\.\d)? min", sev2.locator("td").nth(3).inner_text())


def test_tenant_viewer_sees_the_banner_and_own_status_page(sign_in, page: Page, live_url):
    sign_in("tenant_viewer")
    page.goto(f"{live_url}/tenants/acme-retail")
    banner = page.locator(".incident-banner")
    expect(banner).to_contain_text("Stale stock levels")
    banner.get_by_role("link", name="Status page").click()
    expect(page.get_by_role("heading", name="Acme Retail status")).to_be_visible()
    expect(page.locator("main")).to_contain_text("Stale stock levels")
    assert page.goto(f"{live_url}/status/globex-outfitters").status == 404
    assert page.goto(f"{live_url}/incidents/status/globex-outfitters").status == 404


def test_manager_home_flags_the_overdue_postmortem(sign_in, page: Page):
    sign_in("manager")
    expect(page.locator("#home-overdue-postmortems")).to_contain_text(
        "Elasticsearch cluster red")
