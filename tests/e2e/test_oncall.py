"""The on-call journey in a real browser: who is on call, ack a page, create a silence
after previewing it (against a real Alertmanager), a clear error for an empty matcher, the
layered schedule calendar with a gap, and a developer on the rota swapping their shift."""
import re
from datetime import time, timedelta

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from portal.auth.models import User
from portal.db import utcnow
from portal.extensions import db
from portal.integrations.alertmanager import AlertmanagerClient, iso
from portal.oncall import paging
from portal.oncall.models import LayerMember, Schedule
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
    # Three people rotate on the primary layer, Devi (a developer) among them.
    expect(page.locator("#swap-primary select[name=take] option",
                        has_text="Devi Developer").first).to_be_attached()
    page.locator("#swap summary").click()
    form = page.locator("#swap-secondary")
    give = form.locator("select[name=give] option", has_text="Maya Manager").first
    take = form.locator("select[name=take] option", has_text="Ada Admin").first
    form.locator("select[name=give]").select_option(give.get_attribute("value"))
    form.locator("select[name=take]").select_option(take.get_attribute("value"))
    form.get_by_role("button", name="Swap secondary shifts").click()
    expect(page.locator(".flash-success")).to_contain_text("Swapped (secondary)")
    swaps = page.locator("#overrides tr", has_text="swap: Maya Manager ↔ Ada Admin")
    expect(swaps).to_have_count(2)


@pytest.fixture(scope="module")
def gappy_schedule(e2e_app):
    """A schedule whose secondary layer nobody staffs: every hour of it is a gap."""
    with e2e_app.app_context(), db.session_scope() as session:
        oncall = session.scalars(select(User).where(
            User.email == "oncall@meridian.example")).one()
        schedule = Schedule(slug="e2e-gaps", name="Gaps on-call", timezone="Europe/Berlin",
                            handoff_weekday=0, handoff_time=time(10, 0),
                            rotation_start=utcnow().date() - timedelta(days=60))
        schedule.members.append(LayerMember(layer="primary", position=1, user=oncall))
        session.add(schedule)
        return schedule.slug


def test_the_schedule_calendar_shows_layers_and_highlights_a_gap(sign_in, page: Page,
                                                                 live_url, gappy_schedule):
    sign_in("oncall")
    page.goto(f"{live_url}/oncall/schedules/{gappy_schedule}")
    rows = page.locator("#layered-calendar tbody tr")
    expect(rows).to_have_count(6)
    expect(page.locator('tr[data-row="primary-final"] td.block.rotation').first
           ).to_contain_text("Omar Oncall")
    gap = page.locator('tr[data-row="secondary-final"] td.block.gap').first
    expect(gap).to_be_visible()
    expect(gap).to_have_css("font-weight", "700")  # the calendar stylesheet highlights it
    expect(page.locator("#calendar-gaps")).to_contain_text("secondary")
    page.evaluate("document.body.dataset.kept = 'yes'")  # gone if the page reloads
    page.locator(".calendar-nav").get_by_role("link", name="4 weeks").click()
    expect(page.locator("#layered-calendar")).to_have_class(re.compile(r"weeks-4"))
    expect(page).to_have_url(re.compile(r"weeks=4"))
    expect(page.locator("body")).to_have_attribute("data-kept", "yes")  # htmx swapped it in
    expect(page.locator("#layered-calendar tbody tr")).to_have_count(6)


def test_a_developer_on_the_rota_swaps_their_own_shift(sign_in, page: Page, live_url):
    sign_in("developer")
    page.goto(f"{live_url}/oncall/schedules/commerce")
    page.locator("#swap summary").click()
    form = page.locator("#swap-primary")
    expect(form.locator("select[name=give] option:checked")).to_contain_text("Devi Developer")
    expect(form.locator("select[name=take] option:checked")).not_to_contain_text(
        "Devi Developer")
    form.get_by_role("button", name="Swap primary shifts").click()
    expect(page.locator(".flash-success")).to_contain_text("Swapped (primary)")
    expect(page.locator("#overrides")).to_contain_text("Devi Developer")
