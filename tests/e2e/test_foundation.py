"""Each role signs in and sees exactly its navigation; isolation and CSRF in a real browser."""
import re

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.e2e

# Exactly what each demo role may use, in menu order.
EXPECTED_NAV = {
    "tenant_viewer": ["Home", "My tenant"],
    # The demo developer is on the primary rota, which brings the On-call entry.
    "developer": ["Home", "Catalog", "SLOs", "On-call", "Incidents", "Self-service", "Drift",
                  "Game days", "Tenants"],
    "oncall": ["Home", "Catalog", "SLOs", "On-call", "Incidents", "Drift", "Game days",
               "Tenants"],
    "manager": ["Home", "Catalog", "SLOs", "On-call", "Incidents", "Self-service", "Approvals",
                "Drift", "Game days", "Tenants"],
    "admin": ["Home", "Catalog", "SLOs", "On-call", "Incidents", "Self-service", "Approvals",
              "Drift", "Game days", "Tenants", "Audit log"],
}


def nav_labels(page: Page) -> list[str]:
    return [t.strip() for t in page.locator("#main-nav a").all_inner_texts()]


@pytest.mark.parametrize("role", list(EXPECTED_NAV))
def test_each_role_sees_exactly_its_navigation(role, sign_in, page: Page):
    sign_in(role)
    assert nav_labels(page) == EXPECTED_NAV[role]


def test_tenant_viewer_typing_another_tenants_url_gets_404(sign_in, page: Page, live_url):
    sign_in("tenant_viewer")
    page.locator("#main-nav").get_by_role("link", name="My tenant").click()
    expect(page.locator("#tenant-name")).to_have_text("Acme Retail")
    response = page.goto(f"{live_url}/tenants/globex-outfitters")
    assert response.status == 404
    expect(page.get_by_role("heading", name="Not found")).to_be_visible()
    assert page.goto(f"{live_url}/catalog/").status == 403


def test_post_without_csrf_token_is_refused(sign_in, page: Page, live_url):
    sign_in("developer")
    response = page.request.post(f"{live_url}/logout", form={"x": "1"})
    assert response.status == 400
    assert "security token" in response.text()
    page.reload()
    expect(page.locator("#logout")).to_be_visible()  # still signed in


def test_admin_sees_logins_in_the_audit_log_and_filters_with_htmx(sign_in, page: Page, live_url):
    sign_in("admin")
    page.locator("#main-nav").get_by_role("link", name="Audit log").click()
    expect(page.locator("#audit-rows")).to_contain_text("auth.login")
    page.get_by_label("Actor").fill("admin@meridian")
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"actor=admin%40meridian"))
    rows = page.locator("#audit-rows tr")
    expect(rows.first).to_contain_text("admin@meridian.example")
    for text in rows.all_inner_texts():
        assert "admin@meridian.example" in text


def test_wrong_password_shows_a_clear_message(page: Page, live_url):
    page.goto(f"{live_url}/login")
    page.get_by_label("E-mail").fill("dev@meridian.example")
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#login-error")).to_have_text("Wrong e-mail or password.")


@pytest.mark.parametrize("role,paths", [
    ("manager", ["/", "/slo/", "/incidents/metrics", "/catalog/graph",
                 "/catalog/services/order", "/tenants/acme-retail/dashboard"]),
    ("oncall", ["/oncall/", "/incidents/"]),
])
def test_pages_load_nothing_from_outside_the_portal(role, paths, sign_in, page: Page, live_url):
    """htmx, Pico and plotly.js are vendored: no request may leave the portal's origin."""
    elsewhere = []
    page.on("request", lambda r: None if r.url.startswith(live_url) or r.url.startswith("data:")
            else elsewhere.append(r.url))
    sign_in(role)
    for path in paths:
        assert page.goto(f"{live_url}{path}").status == 200, path
        page.wait_for_load_state("networkidle")
    assert page.evaluate("typeof htmx") == "object"
    assert elsewhere == []
