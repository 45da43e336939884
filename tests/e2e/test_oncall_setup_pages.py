"""The on-call setup pages in a real browser: importing from Grafana OnCall (dry run, then
apply, then the schedule on the on-call page), "My notification rules" (add an SMS rule,
save, send a test page over e-mail and SMS, readable on a phone), and the escalation chain
editor (an internal webhook address refused on the page, a step added and listed).

Grafana OnCall and Twilio cannot run here: their local stand-ins check the documented
requests (tests/integration/oncall_import/fake_grafana_oncall.py, tests/fake_twilio.py);
e-mail goes to a real SMTP server (aiosmtpd).
"""
from __future__ import annotations

import secrets
from types import SimpleNamespace

import pytest
from aiosmtpd.controller import Controller
from playwright.sync_api import Page, expect
from sqlalchemy import select

from portal.auth import service as accounts
from portal.extensions import db
from portal.oncall import demo, rule_service
from portal.oncall.models import Schedule
from tests.fake_twilio import FakeTwilio
from tests.integration.oncall_import.conftest import TOKEN, oncall_data
from tests.integration.oncall_import.fake_grafana_oncall import FakeGrafanaOnCall
from tests.servers import free_port
from tests.unit.oncall.test_notify import Inbox

pytestmark = pytest.mark.e2e
LOOPBACK = ("127.0.0.1", "::1", "localhost")  # the stand-ins listen on loopback


@pytest.fixture(scope="module")
def outside(e2e_app):
    """Grafana OnCall, Twilio and an SMTP server on loopback, the live portal pointed at
    them for this module only."""
    inbox = Inbox()
    smtp = Controller(inbox, hostname="127.0.0.1", port=free_port())
    smtp.start()
    suffix = secrets.token_hex(3)
    with FakeGrafanaOnCall(oncall_data(suffix), token=TOKEN) as grafana, \
            FakeTwilio() as twilio:
        settings = {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": smtp.port, "SMTP_TIMEOUT": 5.0,
                    "ONCALL_NOTIFY_WEBHOOK_URL": None, "OUTBOUND_ALLOWED_HOSTS": LOOPBACK,
                    "PHONE_PROVIDER_PRIMARY": "twilio", "PHONE_PROVIDER_PRIMARY_URL": twilio.url,
                    "PHONE_PROVIDER_PRIMARY_ACCOUNT_SID": twilio.sid,
                    "PHONE_PROVIDER_PRIMARY_AUTH_TOKEN": twilio.token,
                    "PHONE_PROVIDER_PRIMARY_FROM": twilio.numbers[0]}
        previous = {key: e2e_app.config.get(key) for key in settings}
        e2e_app.config.update(settings)
        try:
            yield SimpleNamespace(grafana=grafana, twilio=twilio, inbox=inbox, suffix=suffix)
        finally:
            e2e_app.config.update(previous)
            smtp.stop()


@pytest.fixture
def demo_rules_back(e2e_app):
    """Put the on-call engineer's demo rules back afterwards (other tests page them)."""
    yield
    with e2e_app.app_context(), db.session_scope() as session:
        person = accounts.get_by_email(session=session, email=demo.RULES_FOR)
        rule_service.save(session=session, user=person, phone=demo.RULES_PHONE,
                          timezone=demo.TIMEZONE, quiet_start=demo.QUIET_HOURS[0],
                          quiet_end=demo.QUIET_HOURS[1], rules=demo.RULES)


def _schedule(e2e_app, name: str) -> tuple[str, str] | None:
    """(slug, time zone) of the schedule called `name`, if there is one."""
    with e2e_app.app_context(), db.session_scope() as session:
        row = session.execute(select(Schedule.slug, Schedule.timezone)
                              .where(Schedule.name == name)).first()
        return tuple(row) if row else None


def test_manager_imports_from_grafana_oncall(sign_in, page: Page, live_url, e2e_app,
                                             outside):
    sign_in("manager")
    page.goto(f"{live_url}/oncall/")
    page.locator("#import-schedules").click()
    # The cloud metadata address is refused on the page, with what to do about it.
    page.get_by_label("API URL").fill("http://169.254.169.254/")
    page.get_by_label("API token").fill(TOKEN)
    with page.expect_response(lambda r: r.url.endswith("/dry-run")) as refused:
        page.get_by_role("button", name="Dry run from Grafana OnCall").click()
    assert refused.value.status == 400
    expect(page.locator("#import-error")).to_contain_text("publicly reachable")
    expect(page.locator("#import-error")).to_contain_text("Check the URL")

    page.get_by_label("API URL").fill(outside.grafana.url)
    page.get_by_label("API token").fill(TOKEN)
    page.get_by_role("button", name="Dry run from Grafana OnCall").click()
    expect(page.locator('#import-counts [data-created="schedules"]')).to_have_text("2")
    expect(page.locator("#import-result")).to_contain_text(f"Primary {outside.suffix}")
    unmapped = page.locator("#import-unmapped")
    expect(unmapped).to_contain_text("Holidays")  # an iCal schedule
    expect(unmapped).to_contain_text("by_month")  # a shift the portal cannot express
    assert _schedule(e2e_app, f"Primary {outside.suffix}") is None  # a dry run writes nothing

    page.get_by_role("button", name="Apply this import").click()
    expect(page.locator("#import-result h2")).to_have_text("Imported")
    expect(page.locator('#import-counts [data-created="schedules"]')).to_have_text("2")
    page.locator("#import-see-oncall").click()
    imported = _schedule(e2e_app, f"Primary {outside.suffix}")
    assert imported is not None and imported[1] == "Europe/Berlin"
    expect(page.locator(f'#who-table tr[data-schedule="{imported[0]}"]')).to_contain_text(
        f"Primary {outside.suffix}")


def test_oncall_adds_an_sms_rule_and_sends_a_test_page(sign_in, page: Page, live_url,
                                                       outside, demo_rules_back):
    sign_in("oncall")
    page.goto(f"{live_url}/oncall/")
    page.locator("#my-notification-rules").click()
    # The demo's own rules: e-mail at once; for important pages an SMS after 2 minutes.
    expect(page.get_by_label("Quiet hours start (your time)")).to_have_value("22:00")
    expect(page.locator("#important-row-2").get_by_label("Row 2 channel")).to_have_value("sms")

    page.get_by_label("Phone number").fill("+44 20 7946 0958")
    page.locator("#add-default-rule").click()  # htmx swaps the form with a new row
    row = page.locator("#default-row-2")
    row.get_by_label("Row 2 channel").select_option("sms")
    row.get_by_label("Row 2 after minutes").fill("1")
    page.locator("#save-rules").click()
    expect(page.locator(".flash-success")).to_contain_text("Your notification rules are saved")
    expect(page.get_by_label("Phone number")).to_have_value("+442079460958")
    expect(page.locator("#default-row-2").get_by_label("Row 2 channel")).to_have_value("sms")

    page.wait_for_load_state()  # htmx is ready, so the results come back in place
    page.get_by_role("button", name="Send me a test page").click()
    outcome = page.locator("#test-page-outcome")
    expect(outcome.locator("li")).to_have_count(2)
    expect(outcome).to_contain_text("E-mail: sent to oncall@meridian.example")
    expect(outcome).to_contain_text("SMS: sent to +442079460958")
    expect(outcome.locator(".badge.bad")).to_have_count(0)
    [sms] = [r["form"] for r in outside.twilio.accepted if r["resource"] == "Messages"]
    assert sms["To"] == "+442079460958" and "Test page" in sms["Body"]
    assert [m["To"] for m in outside.inbox.messages] == ["oncall@meridian.example"]
    # A second click within the minute is refused where the person is looking.
    page.get_by_role("button", name="Send me a test page").click()
    expect(page.locator("#test-page-refused")).to_contain_text("wait a minute")
    assert len(outside.twilio.accepted) == 1

    # On a phone the rule rows become cards whose boxes say what they are.
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    label = page.evaluate("getComputedStyle(document.querySelector("
                          "'#default-row-2 td[data-label=\"After (min)\"]'), '::before').content")
    assert label == '"After (min)"'


def test_manager_builds_an_escalation_chain(sign_in, page: Page, live_url, outside):
    name = f"Checkout storm {secrets.token_hex(3)}"
    sign_in("manager")
    page.goto(f"{live_url}/oncall/policies")
    page.get_by_role("button", name="New chain").click()
    page.get_by_label("Name").fill(name)
    page.get_by_label("Step 1 kind").select_option("notify_schedule")
    page.get_by_label("Step 2 kind").select_option("wait")
    page.get_by_label("Step 2 minutes").fill("5")
    page.get_by_label("Step 3 kind").select_option("webhook")
    page.get_by_label("Step 3 webhook URL").fill("http://169.254.169.254/latest/meta-data/")
    with page.expect_response(lambda r: r.request.method == "POST") as refused:
        page.get_by_role("button", name="Save chain").click()
    assert refused.value.status == 422
    expect(page.locator("#chain-error")).to_contain_text("Step 3: the webhook URL must be")
    expect(page.get_by_label("Name")).to_have_value(name)  # nothing typed is lost

    page.get_by_label("Step 3 kind").select_option("notify_users")
    page.get_by_label("Step 3 webhook URL").fill("")
    page.get_by_label("Step 3 people").fill("manager@meridian.example")
    page.get_by_role("button", name="Save chain").click()
    expect(page.locator(".flash-success")).to_contain_text(f"Chain {name} saved.")
    row = page.locator("#chain-list tr", has_text=name)
    expect(row.locator("li")).to_have_text([
        "notify everyone on call in the page's schedule", "wait 5 min",
        "notify manager@meridian.example"])

    # Add a step to the saved chain: it is listed after the others.
    row.get_by_role("link", name="Edit").click()
    page.wait_for_load_state()
    page.get_by_label("Step 4 kind").select_option("repeat")
    page.get_by_label("Step 4 count").fill("1")
    page.get_by_role("button", name="Save chain").click()
    expect(page.locator("#chain-list tr", has_text=name).locator("li").last).to_have_text(
        "repeat from the top 1×")

    # A matcher that cannot be parsed is explained under the route form, input kept.
    page.get_by_label("Alert labels matcher").fill('{service="checkout"')
    page.locator("#route-form select[name=chain_id]").select_option(label=name)
    page.get_by_role("button", name="Add route").click()
    expect(page.locator("#route-error")).to_be_visible()
    expect(page.get_by_label("Alert labels matcher")).to_have_value('{service="checkout"')
