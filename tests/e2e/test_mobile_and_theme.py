"""The portal on a phone and in both themes, in a real browser.

On an iPhone 13 (390 px): the top bar is one row with a keyboard-usable menu, every nav
link and action button is at least 44 px tall, no main page is wider than the screen, the
on-call engineer's Acknowledge button is on the first screen, and the web app manifest and
its icons are served. The theme switch applies without a reload (charts included), is
rendered by the server after a reload and a new sign-in, and works without JavaScript.
"""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, Playwright, expect

from portal.demo import meridian
from portal.extensions import db
from portal.oncall import paging
from tests.e2e.conftest import DEMO_EMAILS

pytestmark = pytest.mark.e2e

MIN_TAP = 44
# Every visible control the thumb needs: the top bar's, and the action buttons of a page.
TAP_TARGETS = """() => [...document.querySelectorAll(
    'header a, header button, header summary, main button, main [role=button], ' +
    'main input[type=submit], main input[type=button]')]
  .filter(el => el.getClientRects().length && getComputedStyle(el).visibility !== 'hidden')
  .map(el => ({what: el.id || el.textContent.trim().slice(0, 30) || el.outerHTML.slice(0, 60),
               height: el.getBoundingClientRect().height}))"""
# The top bar's visible parts share one row when some horizontal line crosses all of them.
ONE_ROW = """() => {
  const boxes = [...document.querySelectorAll('header nav > *')]
    .filter(el => el.getClientRects().length).map(el => el.getBoundingClientRect());
  return Math.max(...boxes.map(b => b.top)) < Math.min(...boxes.map(b => b.bottom));
}"""


# For a failure message: the outermost visible elements sticking out of a 390 px screen
# that no scrolling box (overflow-x) contains.
WIDER_THAN_SCREEN = """width => {
  const free = el => { for (let a = el.parentElement; a; a = a.parentElement)
    if (getComputedStyle(a).overflowX !== 'visible') return false; return true; };
  const out = [];
  for (const el of document.querySelectorAll('main *, header *'))
    if (el.getBoundingClientRect().right > width + 1 && el.checkVisibility() && free(el)
        && !out.some(o => o.contains(el))) out.push(el);
  return out.slice(0, 5).map(el => el.outerHTML.slice(0, 100));
}"""



def choose_theme(page: Page, theme: str) -> None:
    """Open the account menu (under the person's name) if needed and pick `theme`."""
    if page.locator("#account-menu").get_attribute("open") is None:
        page.locator("#account-menu-button").click()
    page.locator(f"#theme-{theme}").click()

def sign_in_on(page: Page, live_url: str, role: str) -> None:
    page.goto(f"{live_url}/login")
    page.get_by_label("E-mail").fill(DEMO_EMAILS[role])
    page.get_by_label("Password").fill(meridian.demo_password(DEMO_EMAILS[role]))
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#nav-menu")).to_be_attached()


@pytest.fixture(scope="module")
def triggered_page(e2e_app):
    """A page waiting for the on-call engineer of the order service (the demo has none)."""
    with e2e_app.app_context(), db.session_scope() as session:
        page = paging.start_paging(session=session, incident_id=None, severity="sev2",
                                   title="Order service error budget burning",
                                   service_slugs=["order-service"])
        return page.id


def test_on_a_phone_the_portal_fits_the_screen_and_the_thumb(
        browser: Browser, playwright: Playwright, live_url, triggered_page):
    iphone = {k: v for k, v in playwright.devices["iPhone 13"].items()
              if k != "default_browser_type"}
    context = browser.new_context(**iphone)
    page = context.new_page()
    sign_in_on(page, live_url, "oncall")

    # The first screen of the on-call board shows the page to acknowledge.
    page.goto(f"{live_url}/oncall/")
    ack = page.locator(f"#page-{triggered_page}").get_by_role("button", name="Acknowledge")
    box = ack.bounding_box()
    viewport = page.viewport_size
    assert box and box["y"] + box["height"] <= viewport["height"], box
    assert 0 <= box["x"] and box["x"] + box["width"] <= viewport["width"], box

    problems = []
    for path in ("/", "/catalog/", "/slo/", "/oncall/", "/incidents/", "/tenants/",
                 "/tenants/acme-retail/dashboard"):
        page.goto(live_url + path)
        if not page.evaluate(ONE_ROW):
            problems.append(f"{path}: the top bar takes more than one row")
        # A phone widens its layout viewport (innerWidth) to fit wide content: compare both
        # with the screen.
        wide = page.evaluate("Math.max(document.scrollingElement.scrollWidth, innerWidth)")
        if wide > viewport["width"]:
            problems.append(f"{path}: the page is {wide} px wide on a 390 px screen, by "
                            f"{page.evaluate(WIDER_THAN_SCREEN, viewport['width'])}")
        problems += [f"{path}: {t['what']!r} is {t['height']:.0f} px tall"
                     for t in page.evaluate(TAP_TARGETS) if t["height"] < MIN_TAP - 0.5]
    assert not problems, "\n".join(problems)

    # The menu opens from the keyboard, and its links are thumb-sized.
    expect(page.locator("#main-nav")).to_be_hidden()
    page.locator("#nav-menu-button").focus()
    page.keyboard.press("Enter")
    links = page.locator("#main-nav").get_by_role("link")
    expect(links.first).to_be_visible()
    assert all(b["height"] >= MIN_TAP for b in (links.nth(i).bounding_box()
                                                for i in range(links.count())))
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.closest('#main-nav') !== null")
    links.get_by_text("Incidents", exact=True).tap()
    expect(page).to_have_url(re.compile(r"/incidents/$"))

    # Installable: the manifest is JSON with a 192 and a 512 px icon, all reachable.
    manifest_url = page.locator('link[rel="manifest"]').get_attribute("href")
    answer = page.request.get(live_url + manifest_url)
    assert answer.headers["content-type"].startswith("application/manifest+json")
    manifest = answer.json()
    assert manifest["display"] == "standalone" and manifest["short_name"]
    assert {"192x192", "512x512"} <= {icon["sizes"] for icon in manifest["icons"]}
    touch = page.locator('link[rel="apple-touch-icon"]').get_attribute("href")
    for src in [icon["src"] for icon in manifest["icons"]] + [touch]:
        icon = page.request.get(live_url + src)
        assert icon.ok and icon.headers["content-type"] == "image/png", src
    context.close()


# Any CSS colour as the browser computes it (rgb(...)), to compare Plotly's and Pico's.
AS_RGB = """c => { const probe = document.createElement('span'); probe.style.color = c;
    document.body.append(probe); const rgb = getComputedStyle(probe).color;
    probe.remove(); return rgb; }"""


def chart_text_colour(page: Page) -> str:
    colour = page.evaluate("document.querySelector('.js-plotly-plot')._fullLayout.font.color")
    return page.evaluate(AS_RGB, colour)


def pico_text_colour(page: Page) -> str:
    return page.evaluate(AS_RGB, page.evaluate(
        "getComputedStyle(document.documentElement).getPropertyValue('--pico-color')"))


def test_the_theme_switch_applies_at_once_and_is_remembered(browser: Browser, live_url):
    context = browser.new_context(color_scheme="light")
    page = context.new_page()
    sign_in_on(page, live_url, "manager")
    html = page.locator("html")
    try:
        page.goto(f"{live_url}/slo/")
        page.goto(live_url + page.locator("main a[href^='/slo/']").filter(
            has_text=re.compile(r"\w")).evaluate_all(
            "links => links.map(a => a.pathname).find(p => /^\\/slo\\/\\d+$/.test(p))"))
        expect(page.locator(".js-plotly-plot").first).to_be_visible()
        expect(html).not_to_have_attribute("data-theme", re.compile("."))
        light_chart = chart_text_colour(page)
        assert light_chart == pico_text_colour(page)

        # With htmx: no reload (the marker survives), the switch and the charts follow.
        page.evaluate("window.notReloaded = true")
        choose_theme(page, "dark")
        expect(html).to_have_attribute("data-theme", "dark")
        expect(page.locator("#theme-dark")).to_have_attribute("aria-pressed", "true")
        expect(page.locator("#theme-auto")).to_have_attribute("aria-pressed", "false")
        assert page.evaluate("window.notReloaded") is True
        page.wait_for_function(f"was => ({AS_RGB})(document.querySelector('.js-plotly-plot')"
                               "._fullLayout.font.color) !== was", arg=light_chart)
        assert page.evaluate("getComputedStyle(document.body).backgroundColor") != \
            "rgb(255, 255, 255)"
        assert chart_text_colour(page) == pico_text_colour(page) != light_chart

        # Rendered by the server: in the HTML itself after a reload, and after signing in again.
        assert '<html lang="en" data-theme="dark">' in page.reload().text()
        page.locator("#logout").click()
        expect(html).not_to_have_attribute("data-theme", re.compile("."))  # the sign-in page
        sign_in_on(page, live_url, "manager")
        expect(html).to_have_attribute("data-theme", "dark")
    finally:
        choose_theme(page, "auto")
        expect(html).not_to_have_attribute("data-theme", re.compile("."))
    context.close()

    # Without JavaScript the switch is a plain form that comes back to the same page.
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    sign_in_on(page, live_url, "manager")
    page.goto(f"{live_url}/incidents/")
    choose_theme(page, "light")
    expect(page).to_have_url(f"{live_url}/incidents/")
    expect(page.locator("html")).to_have_attribute("data-theme", "light")
    choose_theme(page, "auto")
    expect(page.locator("html")).not_to_have_attribute("data-theme", re.compile("."))
    context.close()
