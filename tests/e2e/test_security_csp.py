"""The Content Security Policy holds in a real browser: the chart, on-call and incident
pages render (Plotly figures drawn, htmx working) without a single CSP violation."""
from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from portal.catalog.models import Service
from portal.extensions import db
from portal.incidents.models import Incident
from portal.oncall.models import Schedule
from portal.slo.models import Slo

# Charts parse the 4.8 MB plotly.js first; give slow shared machines room.
CHART_TIMEOUT = 30_000
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__cspViolations.push(e.violatedDirective + " " + (e.blockedURI || "inline"));
});
"""


@pytest.fixture(scope="module")
def ids(e2e_app):
    with e2e_app.app_context(), db.session_scope() as session:
        return {"slo": session.scalar(select(Slo.id).order_by(Slo.id)),
                "incident": session.scalar(select(Incident.id).order_by(Incident.id)),
                "schedule": session.scalar(select(Schedule.slug).order_by(Schedule.id)),
                "service": session.scalar(select(Service.slug).order_by(Service.id))}


def _visit_without_violations(page: Page, url: str, *, charts: bool) -> None:
    console: list[str] = []
    page.on("console", lambda msg: console.append(msg.text)
            if "Content Security Policy" in msg.text else None)
    page.add_init_script(RECORD_VIOLATIONS)
    response = page.goto(url)
    assert response is not None and response.status == 200, url
    assert "script-src 'self'" in response.headers["content-security-policy"]
    if charts:
        expect(page.locator(".js-plotly-plot").first).to_be_visible(timeout=CHART_TIMEOUT)
    page.wait_for_load_state("load")
    assert page.evaluate("window.__cspViolations") == [], url
    assert console == [], url


@pytest.mark.parametrize("path", ["/catalog/graph", "/incidents/metrics",
                                  "/tenants/acme-retail/dashboard", "/slo/{slo}",
                                  "/catalog/services/{service}/scorecard"])
def test_chart_pages_draw_without_csp_violations(page: Page, sign_in, live_url, ids, path):
    sign_in("admin")
    _visit_without_violations(page, live_url + path.format(**ids), charts=True)


@pytest.mark.parametrize("path", ["/oncall/", "/oncall/alerts", "/oncall/schedules/{schedule}",
                                  "/oncall/silences/", "/incidents/",
                                  "/incidents/{incident}", "/admin/audit"])
def test_oncall_and_incident_pages_have_no_csp_violations(page: Page, sign_in, live_url, ids,
                                                          path):
    sign_in("admin")
    _visit_without_violations(page, live_url + path.format(**ids), charts=False)


def test_htmx_still_works_under_the_policy(page: Page, sign_in, live_url):
    """The audit filter swaps rows in through htmx, which the policy must allow."""
    sign_in("admin")
    page.add_init_script(RECORD_VIOLATIONS)
    page.goto(f"{live_url}/admin/audit")
    with page.expect_response(lambda r: "/admin/audit" in r.url and
                              r.request.headers.get("hx-request") == "true"):
        page.get_by_label("Outcome").select_option("success")
    assert page.evaluate("window.__cspViolations") == []


def test_confirmation_prompts_work_without_inline_handlers(page: Page, sign_in, live_url, ids):
    """Dismissing the delete prompt keeps the SLO: the prompt comes from portal.js."""
    sign_in("admin")
    page.goto(f"{live_url}/slo/{ids['slo']}")
    prompts: list[str] = []
    page.on("dialog", lambda dialog: (prompts.append(dialog.message), dialog.dismiss()))
    page.get_by_role("button", name="Delete SLO").click()
    expect(page).to_have_url(f"{live_url}/slo/{ids['slo']}")
    assert prompts == ["Delete this SLO and its samples?"]
