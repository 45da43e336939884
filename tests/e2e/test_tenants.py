"""A tenant viewer in a real browser: dashboard filters swap charts with htmx, then a CSV
report is built by a Celery worker (RabbitMQ) into moto's S3 server and downloaded."""
import csv
import io
import re
import secrets
from datetime import timedelta

import pytest
from celery.contrib.testing.worker import start_worker
from playwright.sync_api import Page, expect

from portal.db import utcnow
from tests.integration.tenants import servers

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def report_backend(e2e_app):
    """moto's S3 and a worker on a queue of its own for the live portal; undone afterwards."""
    celery = e2e_app.extensions["celery"]
    saved = (e2e_app.config.get("S3_ENDPOINT_URL"), celery.conf.task_default_queue)
    queue = f"portal-e2e-tenants-{secrets.token_hex(4)}"
    with servers.moto_s3() as url:
        e2e_app.config["S3_ENDPOINT_URL"] = url
        celery.conf.task_default_queue = queue
        with start_worker(celery, pool="solo", perform_ping_check=False, queues=[queue],
                          shutdown_timeout=60, loglevel="WARNING"):
            yield
    e2e_app.config["S3_ENDPOINT_URL"], celery.conf.task_default_queue = saved


def test_tenant_viewer_filters_the_dashboard_and_downloads_a_csv_report(
        sign_in, page: Page, live_url, report_backend):
    sign_in("tenant_viewer")
    page.locator("#main-nav").get_by_role("link", name="My tenant").click()
    page.locator("#open-dashboard").click()
    expect(page.locator("#chart-orders-per-day .main-svg").first).to_be_visible()
    expect(page.locator("#data-as-of")).to_contain_text("data as of")
    expect(page.locator("#chart-api-requests .main-svg").first).to_be_visible()
    before = page.locator("#kpi-orders").inner_text()
    api_before = page.locator("#kpi-api-requests").inner_text()

    start = (utcnow().date() - timedelta(days=6)).isoformat()
    with page.expect_response(re.compile(r"/dashboard\?")) as answer:
        page.get_by_label("From").fill(start)
        page.get_by_label("From").dispatch_event("change")
    assert answer.value.request.headers.get("hx-request") == "true"
    expect(page.locator("#dashboard-range")).to_have_attribute("data-from", start)
    expect(page.locator("#chart-orders-per-day .main-svg").first).to_be_visible()
    assert page.locator("#kpi-orders").inner_text() != before
    assert page.locator("#kpi-api-requests").inner_text() != api_before
    expect(page.locator("#chart-api-requests .main-svg").first).to_be_visible()
    expect(page).to_have_url(re.compile(rf"from={start}"))

    page.locator("#link-reports").click()
    page.get_by_label("Report").first.select_option("usage")
    page.locator("#report-form").get_by_label("Format").select_option("csv")
    page.locator("#report-form").get_by_label("From").fill(start)
    page.get_by_role("button", name="Build report").click()
    row = page.locator("#report-rows tr").first
    expect(row).to_have_attribute("data-status", "succeeded", timeout=30_000)
    with page.expect_download() as download_info:
        row.get_by_role("link", name="Download").click()
    content = open(download_info.value.path(), encoding="utf-8").read()
    rows = list(csv.DictReader(io.StringIO(content)))
    assert rows and set(rows[0]) == {"day", "warehouse", "orders", "units", "fulfilled",
                                     "canceled"}
    assert min(r["day"] for r in rows) >= start


@pytest.fixture
def billing_down(e2e_app):
    """Point the live portal at a loopback port nothing listens on; undone afterwards."""
    saved = e2e_app.config.get("BILLING_URL")
    e2e_app.config["BILLING_URL"] = f"http://127.0.0.1:{servers.closed_port()}"
    e2e_app.extensions.pop("tenants_cache", None)
    yield
    e2e_app.config["BILLING_URL"] = saved
    e2e_app.extensions.pop("tenants_cache", None)


def test_tenant_viewer_reaches_the_dashboard_from_the_home_panel(sign_in, page: Page,
                                                                live_url, billing_down):
    """With the billing service down the dashboard still renders and its billing panel
    says billing is unavailable."""
    sign_in("tenant_viewer")
    page.goto(f"{live_url}/")
    panel = page.locator("#tenants-home-panel")
    expect(panel).to_contain_text("SLA this month")
    panel.locator("#home-dashboard-link").click()
    expect(page.locator("#chart-orders-per-day .main-svg").first).to_be_visible()
    expect(page.locator("#billing-usage")).to_contain_text("Billing usage to date")
    expect(page.locator("#billing-unavailable")).to_be_visible()
