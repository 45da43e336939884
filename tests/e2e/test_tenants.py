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
    page.wait_for_load_state()
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
    # Deleting asks first (portal.js, data-confirm): dismissed, the report stays.
    page.once("dialog", lambda dialog: dialog.dismiss())
    row.get_by_role("button", name="Delete").click()
    expect(row).to_have_attribute("data-status", "succeeded")
    page.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name="Delete").click()
    expect(page.locator("#report-rows")).to_contain_text("No reports yet.")


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


PLOT_LAYOUT = """() => Array.from(document.querySelectorAll('#dashboard [data-plotly-figure]'))
  .map(div => {
  const box = div.getBoundingClientRect();
  const svg = div.querySelector('.main-svg');
  const bar = div.querySelector('.modebar');
  const inside = el => { const r = el.getBoundingClientRect();
    return r.width === 0 || (r.left >= box.left - 2 && r.right <= box.right + 2
                             && r.top >= box.top - 2 && r.bottom <= box.bottom + 2); };
  const texts = Array.from(div.querySelectorAll('.main-svg text'));
  const next = div.nextElementSibling;
  return {id: div.id, drawn: div.classList.contains('js-plotly-plot'),
          width: box.width, height: box.height,
          parentWidth: div.parentElement.getBoundingClientRect().width,
          svgWidth: svg ? svg.getBoundingClientRect().width : 0,
          svgHeight: svg ? svg.getBoundingClientRect().height : 0,
          modebarHeight: bar ? bar.getBoundingClientRect().height : null,
          textsInside: texts.length > 0 && texts.every(inside),
          overlapsNext: next ? next.getBoundingClientRect().top < box.bottom - 2 : false,
          dashed: (div.data || []).filter(t => t.line && t.line.dash === 'dash').length};
})"""

ALL_DRAWN = """() => { const divs = document.querySelectorAll('#dashboard [data-plotly-figure]');
  return divs.length > 0
    && Array.from(divs).every(d => d._fullLayout && d.querySelector('.main-svg')); }"""


def _plots_are_laid_out(page: Page) -> list[dict]:
    """Every figure of the dashboard drawn inside its own box, as on a fresh page load."""
    page.wait_for_function(ALL_DRAWN)
    plots = page.evaluate(PLOT_LAYOUT)
    assert len(plots) >= 5
    for plot in plots:
        assert plot["drawn"], plot
        assert abs(plot["svgWidth"] - plot["width"]) <= 2, plot
        assert plot["width"] >= plot["parentWidth"] - 2, plot
        assert 250 <= plot["svgHeight"] <= plot["height"] + 2, plot
        # Without Plotly's stylesheet the toolbar is a column of full-size buttons.
        assert plot["modebarHeight"] is not None and plot["modebarHeight"] < 60, plot
        assert plot["textsInside"], plot
        assert not plot["overlapsNext"], plot
    return plots


def test_charts_are_laid_out_again_after_every_filter_swap(sign_in, page: Page, live_url):
    """Warehouse, preset and comparison changes swap the panels; each time every Plotly
    figure is redrawn at its container's size with its toolbar and titles in place."""
    problems = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error"
            and not m.location.get("url", "").endswith("/favicon.ico") else None)
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    sign_in("tenant_viewer")
    page.locator("#main-nav").get_by_role("link", name="My tenant").click()
    page.locator("#open-dashboard").click()
    _plots_are_laid_out(page)

    warehouse = page.locator("#filter-warehouse option").nth(1).get_attribute("value")
    with page.expect_response(re.compile(r"/dashboard\?.*warehouse=")) as answer:
        page.locator("#filter-warehouse").select_option(warehouse)
    assert answer.value.status == 200
    expect(page.locator("#dashboard-range")).to_contain_text(f"warehouse {warehouse}")
    _plots_are_laid_out(page)

    with page.expect_response(re.compile(r"range=7d")):
        page.locator("#preset-7d").click()
    week_start = (utcnow().date() - timedelta(days=6)).isoformat()
    expect(page.locator("#dashboard-range")).to_have_attribute("data-from", week_start)
    expect(page.locator("#preset-7d")).to_have_attribute("aria-current", "true")
    expect(page.locator("#filter-from")).to_have_value(week_start)
    expect(page.locator("#filter-warehouse")).to_have_value(warehouse)
    _plots_are_laid_out(page)

    with page.expect_response(re.compile(r"compare=1")):
        page.locator("#filter-compare").check()
    expect(page.locator("#delta-orders")).to_contain_text("vs previous period")
    plots = {p["id"]: p for p in _plots_are_laid_out(page)}
    assert plots["chart-orders-per-day"]["dashed"] == 1
    assert plots["chart-fulfillment"]["dashed"] == 2
    expect(page).to_have_url(re.compile(r"compare=1"))

    # Typing a date changes it on every key: the form asks once, after the last change.
    sent = []
    page.on("request", lambda r: sent.append(r.url) if "/dashboard?" in r.url else None)
    typed = [(utcnow().date() - timedelta(days=d)).isoformat() for d in (8, 9, 10)]
    page.evaluate("""days => { const input = document.querySelector('#filter-from');
        days.forEach(day => { input.value = day;
                              input.dispatchEvent(new Event('change', {bubbles: true})); }); }""",
                  typed)
    expect(page.locator("#dashboard-range")).to_have_attribute("data-from", typed[-1])
    page.wait_for_timeout(1000)
    assert len(sent) == 1, sent
    _plots_are_laid_out(page)

    page.set_viewport_size({"width": 900, "height": 900})
    page.wait_for_timeout(300)   # Plotly's responsive resize runs on the window's resize
    _plots_are_laid_out(page)
    assert problems == []


def test_an_unusable_range_is_explained_beside_the_field_and_the_charts_stay(
        sign_in, page: Page, live_url):
    sign_in("tenant_viewer")
    page.locator("#main-nav").get_by_role("link", name="My tenant").click()
    page.locator("#open-dashboard").click()
    _plots_are_laid_out(page)
    url, orders = page.url, page.locator("#kpi-orders").inner_text()
    later = (utcnow().date() + timedelta(days=5)).isoformat()
    with page.expect_response(re.compile(r"/dashboard\?")) as answer:
        page.locator("#filter-from").fill(later)
    assert answer.value.status == 422
    expect(page.locator("#filter-from-error")).to_contain_text("start date is after the end date")
    expect(page.locator("#filter-from")).to_have_attribute("aria-describedby", "filter-from-error")
    expect(page.locator("#filter-from")).to_have_value(later)
    assert page.locator("#kpi-orders").inner_text() == orders and page.url == url
    expect(page.get_by_text("Bad request")).to_have_count(0)
    _plots_are_laid_out(page)

    with page.expect_response(re.compile(r"range=30d")) as answer:
        page.locator("#preset-30d").click()
    assert answer.value.status == 200
    expect(page.locator("#filter-from-error")).to_have_count(0)
    _plots_are_laid_out(page)
