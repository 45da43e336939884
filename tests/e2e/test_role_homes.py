"""Each role's home answers "what needs me now" in the first screen of a 1440×900 display."""
from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from portal.extensions import db
from portal.oncall import paging

FIRST_SCREEN = {"width": 1440, "height": 900}
FOLD = FIRST_SCREEN["height"]

HOMES = {
    "oncall": ("#now-pages", "#now-alerts", "#now-incidents", "#now-silences", "#now-shift"),
    "developer": ("#now-jobs", "#now-approvals-dev", "#now-freeze"),
    "manager": ("#slo-home-panel", "#home-approvals", "#now-open-incidents", "#now-mttr"),
    "tenant_viewer": ("#now-status", "#now-tenant-incidents", "#home-sla-pct",
                      "#tenants-home-panel article:has-text('Latest reports')",
                      "#home-dashboard-link"),
}


@pytest.fixture(scope="module")
def my_page(e2e_app):
    """A page assigned to the demo on-call engineer, so the ack button is on the home."""
    with e2e_app.app_context(), db.session_scope() as session:
        page = paging.start_paging(session=session, incident_id=None, severity="sev2",
                                   title="Order queue backing up", service_slugs=["order"])
        paging.escalate_due(session=session, now=page.due_at)
        return page.id


@pytest.mark.parametrize("role", list(HOMES))
def test_what_needs_me_now_is_in_the_first_screen(role, sign_in, page: Page, live_url,
                                                  my_page):
    page.set_viewport_size(FIRST_SCREEN)
    sign_in(role)
    page.goto(f"{live_url}/")
    for selector in HOMES[role]:
        element = page.locator(selector)
        expect(element).to_be_visible()
        box = element.bounding_box()
        assert box is not None and box["y"] + box["height"] <= FOLD, (role, selector, box)
    if role == "oncall":
        ack = page.locator(f"#now-pages #page-{my_page}").get_by_role("button",
                                                                      name="Acknowledge")
        assert ack.bounding_box()["y"] < FOLD
    width = page.evaluate("document.scrollingElement.scrollWidth")
    assert width <= FIRST_SCREEN["width"], width
