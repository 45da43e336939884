"""The on-call journey in a real browser: who is on call, ack a page, create a silence
after previewing it (against a real Alertmanager), a clear error for an empty matcher."""
from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect

from portal.db import utcnow
from portal.extensions import db
from portal.integrations.alertmanager import AlertmanagerClient, iso
from portal.oncall import paging
from tests.integration.oncall.amserver import running_alertmanager

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def alertmanager(e2e_app, tmp_path_factory):
    with running_alertmanager(tmp_path_factory.mktemp("am-e2e")) as url:
        previous = e2e_app.config.get("ALERTMANAGER_URL")
        e2e_app.config["ALERTMANAGER_URL"] = url
        client = AlertmanagerClient(url)
        now = utcnow()
        client.post_alerts([{"labels": {"alertname": "CheckoutErrors", "severity": "critical",
                                        "service": "order-service"},
                             "annotations": {"summary": "5xx on checkout"},
                             "startsAt": iso(now), "endsAt": iso(now + timedelta(hours=1))}])
        yield client
        e2e_app.config["ALERTMANAGER_URL"] = previous


@pytest.fixture(scope="module")
def open_page(e2e_app):
    with e2e_app.app_context(), db.session_scope() as session:
        page = paging.start_paging(session=session, incident_id=None, severity="sev2",
                                   title="Checkout latency above SLO",
                                   service_slugs=["order-service"])
        return page.id


def test_oncall_sees_who_is_on_call_and_acks_a_page(sign_in, page: Page, live_url,
                                                    alertmanager, open_page):
    sign_in("oncall")
    page.locator("#main-nav").get_by_role("link", name="On-call").click()
    expect(page.locator('#who-table tr[data-schedule="commerce"] .primary-now')).to_contain_text(
        "Omar Oncall")
    expect(page.locator("#alert-board")).to_contain_text("CheckoutErrors")
    row = page.locator(f"#my-pages #page-{open_page}")
    expect(row).to_contain_text("Checkout latency above SLO")
    row.get_by_role("button", name="Acknowledge").click()
    expect(page.locator(".flash-success")).to_contain_text(f"Page #{open_page} acknowledged")
    expect(page.locator(f"#page-{open_page} .state")).to_contain_text("acked")


def test_oncall_previews_and_creates_a_silence(sign_in, page: Page, live_url, alertmanager):
    sign_in("oncall")
    page.goto(f"{live_url}/oncall/silences/new")
    page.get_by_label("Matcher 1 label").fill("alertname")
    page.get_by_label("Matcher 1 value").fill("CheckoutErrors")
    page.get_by_role("button", name="Preview affected alerts").click()
    expect(page.locator("#preview-count")).to_contain_text("1 current alert(s)")
    expect(page.locator("#preview-alerts")).to_contain_text("CheckoutErrors")
    page.get_by_label("Justification").fill("Hotfix rollout for checkout, watching manually")
    page.get_by_role("button", name="Create silence").click()
    expect(page.locator(".flash-success")).to_contain_text("created")
    expect(page.locator("#silences-active")).to_contain_text('alertname="CheckoutErrors"')
    expect(page.locator("#silences-active")).to_contain_text("oncall@meridian.example")


def test_empty_matcher_gets_a_clear_error(sign_in, page: Page, live_url, alertmanager):
    sign_in("oncall")
    page.goto(f"{live_url}/oncall/silences/new")
    page.get_by_label("Justification").fill("Testing what an empty silence does")
    page.get_by_role("button", name="Preview affected alerts").click()
    expect(page.locator("#preview-error")).to_contain_text("Add at least one matcher")
    page.get_by_role("button", name="Create silence").click()
    expect(page.locator("#silence-error")).to_contain_text(
        "Add at least one matcher: a silence without matchers would silence every alert.")


def test_two_people_swap_shifts_in_one_step(sign_in, page: Page, live_url):
    sign_in("oncall")
    page.goto(f"{live_url}/oncall/schedules/commerce")
    expect(page.locator("#swap-primary")).to_contain_text("Fewer than two people rotate")
    page.locator("#swap summary").click()
    form = page.locator("#swap-secondary")
    # Maya (manager) and Ada (admin) may take overrides; Devi, a developer, may not.
    give = form.locator("select[name=give] option", has_text="Maya Manager").first
    take = form.locator("select[name=take] option", has_text="Ada Admin").first
    form.locator("select[name=give]").select_option(give.get_attribute("value"))
    form.locator("select[name=take]").select_option(take.get_attribute("value"))
    form.get_by_role("button", name="Swap secondary shifts").click()
    expect(page.locator(".flash-success")).to_contain_text("Swapped (secondary)")
    swaps = page.locator("#overrides tr", has_text="swap: Maya Manager ↔ Ada Admin")
    expect(swaps).to_have_count(2)

    page.locator("#swap summary").click()
    form = page.locator("#swap-secondary")
    devi = form.locator("select[name=take] option", has_text="Devi Developer").first
    form.locator("select[name=give]").select_option(give.get_attribute("value"))
    form.locator("select[name=take]").select_option(devi.get_attribute("value"))
    form.get_by_role("button", name="Swap secondary shifts").click()
    expect(page.locator("#swap-secondary")).to_contain_text("does not hold the on-call role")
