"""The incident page's runbooks come from the catalog (by service and by alert name) besides
the links alerts carry, and an incident and its on-call pages link to each other."""
import re
from datetime import UTC, datetime

from portal.catalog import runbooks
from portal.catalog import service as catalog
from portal.incidents import service
from portal.oncall import alerts as oncall_alerts
from portal.oncall import paging

T0 = datetime(2026, 11, 20, 14, 32, tzinfo=UTC)


def write_runbook(session, slug, service_=None, alertnames=()):
    return runbooks.save(session=session, slug=slug, title=f"Runbook {slug}", body="steps",
                         service=service_, alertnames=list(alertnames), actor_email=None)


def runbook_links(html):
    [line] = re.findall(r"<p>Runbooks: (.*?)</p>", html, re.S)
    return re.findall(r'href="([^"]+)"', line)


def test_runbooks_of_the_services_and_alerts_show_on_the_incident(client, login_as, session,
                                                                  svc):
    other = catalog.upsert_service(session=session, slug="search-t", team=svc.team,
                                   name="Search T", tier=2, kind="service")
    write_runbook(session, "order-restart", svc)
    write_runbook(session, "order-db-failover", svc)
    write_runbook(session, "high-error-rate", alertnames=["HighErrorRate"])
    write_runbook(session, "search-reindex", other)
    oncall_alerts.record(session=session, alerts=[{
        "fingerprint": "rb-1", "status": "firing", "severity": "critical", "service": svc.slug,
        "starts_at": T0, "ends_at": None,
        "labels": {"alertname": "HighErrorRate", "severity": "critical"},
        "annotations": {"runbook_url": "https://runbooks.example/high-error-rate"}}])
    [incident] = service.list_incidents(session=session)
    session.commit()
    login_as("developer")
    html = client.get(f"/incidents/{incident.id}").get_data(as_text=True)
    assert runbook_links(html) == ["/catalog/runbooks/order-db-failover",
                                   "/catalog/runbooks/order-restart",
                                   "/catalog/runbooks/high-error-rate",
                                   "https://runbooks.example/high-error-rate"]


def test_an_incident_without_any_runbook_says_so(client, login_as, make_incident):
    incident = make_incident()
    login_as("developer")
    html = client.get(f"/incidents/{incident.id}").get_data(as_text=True)
    assert runbook_links(html) == [] and "Runbooks: —" in html


def test_incident_and_its_page_link_to_each_other(client, login_as, session, make_incident):
    incident = make_incident()
    page = paging.open_page_for_incident(session=session, incident_id=incident.id)
    assert page is not None  # declaring pages the owning team (a gap when nobody is on call)
    login_as("oncall")
    incident_html = client.get(f"/incidents/{incident.id}").get_data(as_text=True)
    assert f'<a href="/oncall/pages/{page.id}">#{page.id}</a> (triggered)' in incident_html
    page_html = client.get(f"/oncall/pages/{page.id}").get_data(as_text=True)
    assert f'<a href="/incidents/{incident.id}">incident #{incident.id}</a>' in page_html


def test_people_who_cannot_open_pages_see_them_without_a_link(client, login_as, session,
                                                              make_incident):
    incident = make_incident()
    page = paging.open_page_for_incident(session=session, incident_id=incident.id)
    login_as("developer")
    html = client.get(f"/incidents/{incident.id}").get_data(as_text=True)
    assert f"#{page.id} (triggered" in html and "/oncall/pages/" not in html
