"""API tokens in a real browser: create one, see the secret once, use it, revoke it."""
import pytest
import requests
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.e2e


def test_create_use_and_revoke_a_token(sign_in, page: Page, live_url):
    sign_in("developer")
    page.click("#account-menu-button")
    page.click("#api-tokens-link")
    page.get_by_label("Name").fill("e2e-script")
    page.check("input[value=developer]")
    page.get_by_role("button", name="Create token").click()
    secret = page.input_value("#new-token-secret")
    assert secret.startswith("mpt_")
    url = f"{live_url}/catalog/catalog-info.yaml?format=json"
    assert requests.get(url, headers={"Authorization": f"Bearer {secret}"},
                        timeout=10).status_code == 200
    page.goto(f"{live_url}/account/api-tokens")
    assert secret not in page.content()
    row = page.locator("#tokens tr", has_text="e2e-script")
    row.get_by_role("button", name="Revoke").click()
    expect(page.locator("#flashes")).to_contain_text("revoked")
    refused = requests.get(url, headers={"Authorization": f"Bearer {secret}"}, timeout=10)
    assert refused.status_code == 401 and refused.json()["reason"] == "revoked"


def test_hostile_expiry_is_refused_on_the_page(sign_in, page: Page):
    sign_in("developer")
    page.click("#account-menu-button")
    page.click("#api-tokens-link")
    page.get_by_label("Name").fill("bad")
    page.check("input[value=developer]")
    page.get_by_label("Expires after (days)").fill("\u0663\u0660")
    page.get_by_role("button", name="Create token").click()
    expect(page.locator(".field-error")).to_contain_text("whole number of days")
    expect(page.locator("#new-token-secret")).to_have_count(0)
