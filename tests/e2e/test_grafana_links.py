"""With GRAFANA_URL (and LOKI_URL, TEMPO_URL) set, a service page and an incident page open
Grafana in one click."""
import json
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Page, expect

GRAFANA = "https://grafana.meridian.test"


@pytest.fixture
def grafana(e2e_app):
    e2e_app.config.update(GRAFANA_URL=GRAFANA, LOKI_URL="http://loki.monitoring:3100",
                          TEMPO_URL="http://tempo.monitoring:3200")
    yield GRAFANA
    e2e_app.config.update(GRAFANA_URL=None, LOKI_URL=None, TEMPO_URL=None)


def test_service_page_links_dashboards_and_logs(grafana, sign_in, page: Page, live_url):
    sign_in("oncall")
    page.goto(f"{live_url}/catalog/services/order")
    pipeline = page.locator("#grafana-dashboards").get_by_role("link", name="Order Pipeline")
    expect(pipeline).to_be_visible()
    href = urlsplit(pipeline.get_attribute("href"))
    assert href.path == "/d/order-pipeline/order-pipeline"
    assert parse_qs(href.query)["var-service"] == ["order"]
    errors = page.locator("#grafana-logs").get_by_role("link", name="Error logs")
    (pane,) = json.loads(parse_qs(urlsplit(errors.get_attribute("href")).query)["panes"][0]
                         ).values()
    assert pane["queries"][0]["expr"] == ('{namespace="meridian-prod", app="order", '
                                          'level=~"ERROR|CRITICAL"}')
    page.screenshot(path="/tmp/o2-service-page.png", full_page=True)
    hostile = page.goto(f"{live_url}/catalog/services/order%22%3E%3Cscript%3E%00")
    assert 400 <= hostile.status < 500  # a NUL byte and markup in the slug: refused, no 500


def test_incident_page_links_its_window_and_services(grafana, sign_in, page: Page, live_url):
    sign_in("oncall")
    page.goto(f"{live_url}/incidents/")
    page.locator("table a[href^='/incidents/']").first.click()
    links = page.locator("#incident-grafana a")
    expect(links.first).to_be_visible()
    hrefs = [links.nth(i).get_attribute("href") for i in range(links.count())]
    assert all(h.startswith(GRAFANA) for h in hrefs)
    assert any("/d/" in h and "var-service=" in h and "from=" in h for h in hrefs)
    assert any("/explore?schemaVersion=1&panes=" in h for h in hrefs)
    expect(page.locator("#timeline .grafana-links").first).to_be_visible()
    page.screenshot(path="/tmp/o2-incident-page.png", full_page=True)
