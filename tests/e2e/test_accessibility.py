"""Accessibility as a test: every main page passes axe-core's WCAG 2.1 A and AA rules in
the light and the dark scheme, on a laptop screen (1440×900) and at phone width (390 px).

One signed-in page per role visits its pages once each and is audited four times there
(colour scheme and viewport change in place), which keeps the whole audit well under a
minute and a half. A failure lists every violation as rule, target and page.
"""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from portal.demo import meridian
from tests.e2e import axe
from tests.e2e.conftest import DEMO_EMAILS

pytestmark = pytest.mark.e2e

DESKTOP = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}
COMBOS = [(scheme, size) for scheme in ("light", "dark") for size in (DESKTOP, PHONE)]
TENANT = "acme-retail"  # the demo tenant of the demo tenant viewer


def signed_in(browser: Browser, live_url: str, role: str) -> Page:
    """A fresh desktop-size page of `role`, signed in through the form, with axe loaded."""
    context = browser.new_context(viewport=DESKTOP)
    axe.install(context)
    page = context.new_page()
    page.goto(f"{live_url}/login")
    page.get_by_label("E-mail").fill(DEMO_EMAILS[role])
    page.get_by_label("Password").fill(meridian.demo_password(DEMO_EMAILS[role]))
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#nav-menu")).to_be_attached()
    return page


def first_link(page: Page, pattern: str) -> str:
    """The first link on the page whose path matches `pattern` (demo ids are not fixed)."""
    hrefs = page.eval_on_selector_all("main a[href]", "links => links.map(a => a.pathname)")
    found = next((h for h in hrefs if re.fullmatch(pattern, h)), None)
    assert found, f"no link matching {pattern} on {page.url}"
    return found


def audit(page: Page, live_url: str, path: str) -> list[str]:
    """axe violations of `path` in the four scheme × viewport combinations."""
    response = page.goto(live_url + path)
    assert response.status == 200, (path, response.status)
    # Fragments a page loads on arrival (hx-trigger="load") are part of what is audited.
    page.wait_for_function("!document.querySelector('.htmx-request')")
    problems = []
    for scheme, size in COMBOS:
        # Reduced motion: Pico then drops its colour transitions, which axe would otherwise
        # measure half-way between the two schemes.
        page.emulate_media(color_scheme=scheme, reduced_motion="reduce")
        page.set_viewport_size(size)
        # Let resize handlers (Plotly, scroll regions) and the theme's relayout run.
        page.evaluate("new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
        problems += axe.violations(page, where=f"{path} [{scheme}, {size['width']}px]")
    page.set_viewport_size(DESKTOP)
    return problems


def report(problems: list[str]) -> str:
    return f"{len(problems)} accessibility violation(s):\n" + "\n".join(problems)


def test_the_admins_pages_pass_axe_in_both_themes_and_widths(browser: Browser, live_url):
    page = signed_in(browser, live_url, "admin")
    problems = audit(page, live_url, "/")
    for path, detail in (("/catalog/", r"/catalog/services/[\w-]+"),
                         ("/slo/", r"/slo/\d+"),
                         ("/oncall/", r"/oncall/schedules/[\w-]+"),
                         ("/incidents/", r"/incidents/\d+"),
                         ("/selfservice/", r"/selfservice/templates/[\w-]+")):
        problems += audit(page, live_url, path)
        problems += audit(page, live_url, first_link(page, detail))
    for path in (f"/tenants/{TENANT}/dashboard", "/admin/audit"):
        problems += audit(page, live_url, path)
    # The harness itself: an image without a text alternative must be reported.
    page.evaluate("""document.querySelector('main').insertAdjacentHTML('beforeend',
                     '<img id="no-alt" src="/static/icons/icon-192.png">')""")
    planted = axe.violations(page, where="/admin/audit")
    page.context.close()
    assert not problems, report(problems)
    assert [p.split(" ")[:3] for p in planted] == [["image-alt", "(critical)", "#no-alt"]]


@pytest.mark.parametrize("role", ["manager", "oncall", "developer", "tenant_viewer"])
def test_each_roles_home_passes_axe(browser: Browser, live_url, role):
    page = signed_in(browser, live_url, role)
    problems = audit(page, live_url, "/")
    if role == "tenant_viewer":  # their tenant's public-facing status page
        problems += audit(page, live_url, f"/status/{TENANT}")
    page.context.close()
    assert not problems, report(problems)
