"""In Chromium: the service page's alerts and the on-call board open each alert's runbook,
and the certificates page lists cert-manager's certificates and refuses an odd namespace."""
from __future__ import annotations

from playwright.sync_api import expect

from portal.db import utcnow
from portal.extensions import db
from portal.oncall.models import ReceivedAlert


def test_an_alert_on_the_service_page_opens_its_runbook(sign_in, live_url):
    page = sign_in("developer")
    page.goto(f"{live_url}/catalog/services/order")
    row = page.locator('#service-alerts tr[data-alert="OrderServiceHighLatency"]')
    expect(row).to_be_visible()
    page.screenshot(path="/tmp/o1-service-alerts.png", full_page=True)
    row.get_by_role("link", name="runbook").click()
    expect(page.get_by_role("heading", name="High latency", exact=True)).to_be_visible()


def test_an_alert_on_the_oncall_board_opens_its_runbook(sign_in, live_url, e2e_app):
    with e2e_app.app_context(), db.session_scope() as session:
        now = utcnow()
        session.merge(ReceivedAlert(
            fingerprint="e2e-crashloop", status="firing", severity="warning",
            labels={"alertname": "KubePodCrashLooping", "service": "order",
                    "severity": "warning"},
            annotations={"summary": "order of meridian-prod/order-a is crash looping"},
            starts_at=now, last_received_at=now))
    page = sign_in("oncall")
    page.goto(f"{live_url}/oncall/")
    link = page.locator('tr[data-fingerprint="e2e-crashloop"] a.runbook-link')
    expect(link).to_have_text("KubePodCrashLooping")
    page.screenshot(path="/tmp/o1-oncall-board.png", full_page=True)
    link.click()
    expect(page.get_by_role("heading", name="Pod CrashLoopBackOff")).to_be_visible()


def test_the_certificates_page(sign_in, live_url):
    page = sign_in("developer")
    page.goto(f"{live_url}/catalog/")
    page.get_by_role("link", name="Certificates").click()
    table = page.locator("#certificates")
    expect(table.locator('tr[data-certificate="ingress/meridian-ingress-tls"]')).to_contain_text(
        "api.meridian.example")
    page.screenshot(path="/tmp/o1-certificates.png", full_page=True)
    page.get_by_label("Namespace").select_option("platform-portal")
    page.get_by_role("button", name="Filter").click()
    expect(table.locator("tbody tr")).to_have_count(1)
    response = page.goto(f"{live_url}/catalog/certificates?namespace=%3Cscript%3E")
    assert response.status == 400
