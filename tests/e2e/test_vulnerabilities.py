"""CI uploads a Trivy report over HTTP with a `ci` token; a developer sees the counts, the
image's findings with fixed versions, and the deploy form disables a prod deploy of that
image as soon as its tag is typed (the server's refusal is covered in
tests/integration/catalog/test_vulnerabilities.py)."""
import os
from pathlib import Path

import pytest
import requests
from playwright.sync_api import Page, expect

from portal.auth import api_tokens
from portal.auth.models import User
from portal.extensions import db

pytestmark = pytest.mark.e2e
REPORT = Path(__file__).resolve().parents[1] / "data" / "trivy" / "order-critical.json"
SHOTS = os.environ.get("E2E_SCREENSHOTS")  # a folder to keep screenshots in, when set


def _shot(page: Page, name: str) -> None:
    if SHOTS:
        page.screenshot(path=f"{SHOTS}/{name}.png", full_page=True)


@pytest.fixture(scope="module")
def uploaded(e2e_app, live_url):
    with e2e_app.app_context(), db.session_scope() as session:
        owner = session.query(User).filter_by(email="dev@meridian.example").one()
        secret = api_tokens.create(session=session, owner=owner, name="ci-e2e", scopes=["ci"],
                                   days=1, max_days=365).secret
    response = requests.post(f"{live_url}/api/v1/vulnerability-reports",
                             data=REPORT.read_bytes(), timeout=10,
                             headers={"Authorization": f"Bearer {secret}",
                                      "Content-Type": "application/json"})
    assert response.status_code == 201, response.text
    return response.json()


def test_counts_drill_down_and_the_blocked_prod_deploy(sign_in, page: Page, live_url, uploaded):
    sign_in("developer")
    page.goto(f"{live_url}/catalog/vulnerabilities")
    row = page.locator('tr[data-service="order"]')
    expect(row.locator('td[data-severity="critical"]')).to_have_text("1")
    _shot(page, "vulnerabilities")
    row.get_by_role("link").click()
    page.get_by_role("link", name="ghcr.io/meridian/order:1.4.2").click()
    expect(page.locator("#findings")).to_contain_text("2.5.0-1+deb12u1")
    expect(page.locator("#image-deploy-block")).to_contain_text("blocked")
    _shot(page, "vulnerability_image")

    page.goto(f"{live_url}/catalog/services/order")
    expect(page.locator("#critical-cves")).to_have_text("1 critical")
    page.locator("#vulnerabilities-panel").scroll_into_view_if_needed()
    _shot(page, "service_page")

    page.goto(f"{live_url}/selfservice/templates/service-deploy")
    page.get_by_label("Service").select_option("order")
    page.get_by_label("Target environment").select_option("prod")
    submit = page.locator("#submit-request")
    page.get_by_label("Image tag").fill("1.4.2")
    page.get_by_label("Image tag").dispatch_event("change")
    expect(page.locator("#vulnerability-reason")).to_contain_text("1 critical vulnerability")
    expect(submit).to_be_disabled()
    _shot(page, "deploy_form")
    page.get_by_label("Image tag").fill("1.4.3")
    page.get_by_label("Image tag").dispatch_event("change")
    expect(page.locator("#vulnerability-block")).to_have_count(0)
    expect(submit).to_be_enabled()


def test_a_hostile_image_reference_is_a_plain_404(sign_in, page: Page, live_url, uploaded):
    sign_in("developer")
    response = page.goto(f"{live_url}/catalog/vulnerabilities/order/%3Cscript%3E")
    assert response.status == 404
    expect(page.locator("body")).not_to_contain_text("Traceback")
