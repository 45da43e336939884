"""A developer sees a service's error-budget freeze on the deploy and rollback forms before
typing anything: choosing the exhausted service (the demo's Search Service) and prod
disables the submit button, says why and how a manager can break glass; choosing staging
or a healthy service enables it again. The server still refuses on its own (covered in
tests/integration/selfservice/test_freeze_visible.py)."""
import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.e2e


def test_prod_deploy_of_a_frozen_service_is_disabled_before_the_form_is_filled(
        sign_in, page: Page, live_url):
    sign_in("developer")
    page.goto(f"{live_url}/selfservice/templates/service-deploy")
    submit = page.locator("#submit-request")
    expect(page.locator("#freeze-state")).to_be_visible()
    expect(submit).to_be_enabled()  # the first service, staging: nothing frozen

    page.get_by_label("Service").select_option("search")
    expect(page.locator("#freeze-state")).to_contain_text("exhausted")
    page.get_by_label("Target environment").select_option("prod")
    expect(submit).to_be_disabled()
    expect(page.locator("#freeze-reason")).to_contain_text(
        "Production deploys of Search Service are frozen")
    expect(page.locator("#break-glass")).to_contain_text("a manager can override the freeze")
    expect(page.locator("#break-glass a")).to_have_attribute("href", "/catalog/services/search#slo-panel")
    expect(page.get_by_label("Image tag")).to_have_value("")  # nothing typed yet

    page.get_by_label("Target environment").select_option("staging")
    expect(submit).to_be_enabled()
    expect(page.locator("#freeze-reason")).to_contain_text("Freeze off for staging")
    page.get_by_label("Target environment").select_option("prod")
    expect(submit).to_be_disabled()
    page.get_by_label("Service").select_option("billing")
    expect(submit).to_be_enabled()
    expect(page.locator("#freeze-state")).to_have_attribute("data-state", "healthy")


def test_rollback_form_shows_the_freeze_and_its_preview(sign_in, page: Page, live_url):
    sign_in("developer")
    page.goto(f"{live_url}/selfservice/templates/service-rollback")
    expect(page.locator("#rollback-preview")).to_be_visible()
    page.get_by_label("Service").select_option("search")
    page.get_by_label("Target environment").select_option("prod")
    expect(page.locator("#submit-request")).to_be_disabled()
    expect(page.locator("#rollback-preview")).to_contain_text(
        "There is no deploy of search to prod made through the portal to roll back.")
