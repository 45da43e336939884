"""Pages link into Grafana when GRAFANA_URL is set, and show no link when it is not: the
service page, an incident (summary, alerts, timeline), the alert board and a job page. Log
links also need LOKI_URL, trace links TEMPO_URL (set for every test but the last)."""
import json
import re
from datetime import UTC, datetime, timedelta
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import event

from portal.catalog import service as catalog
from portal.incidents import service as incidents
from portal.incidents import timeline
from portal.oncall import alerts
from portal.selfservice import service as selfservice

GRAFANA = "https://grafana.test"
TRACE = "0af7651916cd43dd8448eb211c80319c"


@pytest.fixture(autouse=True)
def datasources(app):
    """Grafana's Loki and Tempo datasources exist (their addresses are set)."""
    app.config.update(LOKI_URL="http://loki.monitoring:3100",
                      TEMPO_URL="http://tempo.monitoring:3200")


@pytest.fixture
def order(session):
    team = catalog.upsert_team(session=session, slug="commerce-g", name="Commerce G",
                               chat_channel=None)
    service = catalog.upsert_service(
        session=session, slug="order", team=team, name="Order Service", tier=1, kind="service",
        namespace="meridian-prod",
        dashboards=[{"title": "System Overview", "path": "/d/system-overview"},
                    {"title": "Order Pipeline", "path": "/d/order-pipeline"}])
    session.commit()
    return service


def grafana_hrefs(body: str) -> list[str]:
    return [unescape(h) for h in re.findall(r'href="([^"]+)"', body) if h.startswith(GRAFANA)]


def explore_expr(url: str) -> str:
    (pane,) = json.loads(parse_qs(urlsplit(url).query)["panes"][0]).values()
    return pane["queries"][0].get("expr") or pane["queries"][0]["query"]


def test_service_page_links_dashboards_and_logs(app, client, login_as, order):
    login_as("developer")
    app.config["GRAFANA_URL"] = None
    plain = client.get("/catalog/services/order").get_data(as_text=True)
    assert not grafana_hrefs(plain) and "/explore?" not in plain
    assert "Order Pipeline" in plain and "<code>/d/order-pipeline</code>" not in plain
    app.config["GRAFANA_URL"] = GRAFANA
    hrefs = grafana_hrefs(client.get("/catalog/services/order").get_data(as_text=True))
    dashboards = [urlsplit(h) for h in hrefs if "/d/" in h]
    assert [d.path for d in dashboards] == ["/d/system-overview/system-overview",
                                            "/d/order-pipeline/order-pipeline"]
    assert all(parse_qs(d.query)["var-service"] == ["order"] for d in dashboards)
    logs = [explore_expr(h) for h in hrefs if "/explore?" in h]
    assert logs == ['{namespace="meridian-prod", app="order"}',
                    '{namespace="meridian-prod", app="order", level=~"ERROR|CRITICAL"}']


def test_incident_page_links_the_window_alerts_and_timeline_traces(app, client, login_as,
                                                                    session, order):
    incident = incidents.declare(session=session, title="Orders failing", severity="sev2",
                                 actor_email="oncall@test.example", customer_facing=False,
                                 tenant_slugs=[], service_slugs=["order"])
    timeline.add_entry(session=session, incident_id=incident.id, kind="status",
                       summary=f"checkout 500s, trace {TRACE}")
    session.commit()
    login_as("oncall")
    app.config["GRAFANA_URL"] = GRAFANA
    body = client.get(f"/incidents/{incident.id}").get_data(as_text=True)
    hrefs = grafana_hrefs(body)
    overview = next(urlsplit(h) for h in hrefs if "/d/system-overview/" in h)
    window = parse_qs(overview.query)
    opened_ms = int(incident.opened_at.timestamp() * 1000)
    assert int(window["from"][0]) == opened_ms - 3_600_000 and window["var-service"] == ["order"]
    explores = [explore_expr(h) for h in hrefs if "/explore?" in h]
    assert TRACE in explores  # the timeline entry's trace opens in Tempo
    assert '{namespace="meridian-prod", app="order", level=~"ERROR|CRITICAL"}' in explores
    entry_id = _first_entry(session, incident.id)
    pinned = client.post_form(f"/incidents/{incident.id}/entries/{entry_id}/pin",
                              {"pinned": "1"}, headers={"HX-Request": "true"})
    assert pinned.status_code == 200 and TRACE in pinned.get_data(as_text=True)
    app.config["GRAFANA_URL"] = None
    assert not grafana_hrefs(client.get(f"/incidents/{incident.id}").get_data(as_text=True))


def _first_entry(session, incident_id: int) -> int:
    entries, _more = timeline.window(session=session, incident_id=incident_id, kind=None)
    return next(e.id for e in entries if TRACE in e.summary)


def test_alert_board_links_each_alert_to_its_dashboard_and_logs(app, client, login_as,
                                                                 session, order):
    starts = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=10)
    alerts.ingest(session=session, payload=alerts.WebhookPayload.model_validate({
        "version": "4", "status": "firing", "receiver": "portal", "groupKey": "g",
        "alerts": [{"status": "firing", "fingerprint": "abc123", "startsAt": starts.isoformat(),
                    "labels": {"alertname": "ErrorBudgetBurn", "service": "order",
                               "severity": "page", "namespace": "meridian-prod"},
                    "annotations": {"summary": "order burns its budget"}}]}))
    session.commit()
    app.config.update(GRAFANA_URL=GRAFANA, ALERTMANAGER_URL=None)
    login_as("oncall")
    hrefs = grafana_hrefs(client.htmx("GET", "/oncall/alerts").get_data(as_text=True))
    burn = urlsplit(next(h for h in hrefs if "/d/" in h))
    assert burn.path == "/d/slo-burn-rate/slo-burn-rate"
    assert int(parse_qs(burn.query)["from"][0]) == int(starts.timestamp() * 1000) - 1_800_000
    assert [explore_expr(h) for h in hrefs if "/explore?" in h] == [
        '{namespace="meridian-prod", app="order", level=~"ERROR|CRITICAL"}']


def test_job_page_links_the_worker_logs_of_the_job(app, client, login_as, session, order):
    dev = login_as("developer")
    job = selfservice.request_job(session=session, template_slug="service-deploy",
                                  raw={"service": "order", "environment": "staging",
                                       "image_tag": "v1.2.3"}, requester=dev)
    session.commit()
    app.config["GRAFANA_URL"] = GRAFANA
    hrefs = grafana_hrefs(client.get(f"/selfservice/jobs/{job.id}").get_data(as_text=True))
    assert [explore_expr(h) for h in hrefs] == [
        f'{{namespace="platform-portal", app="portal"}} |= "{job.id}"',
        '{namespace="meridian-prod", app="order"}']
    app.config["GRAFANA_URL"] = None
    assert not grafana_hrefs(client.get(f"/selfservice/jobs/{job.id}").get_data(as_text=True))


def _statements(client, connection, path: str) -> int:
    seen: list[str] = []

    def count(conn, cursor, statement, *args):
        if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK")):
            seen.append(statement)
    event.listen(connection, "before_cursor_execute", count)
    try:
        assert client.get(path).status_code == 200
    finally:
        event.remove(connection, "before_cursor_execute", count)
    return len(seen)


def test_links_cost_no_query(app, client, login_as, session, connection, order):
    incident = incidents.declare(session=session, title="Orders failing", severity="sev2",
                                 actor_email="oncall@test.example", customer_facing=False,
                                 tenant_slugs=[], service_slugs=["order"])
    for n in range(3):
        timeline.add_entry(session=session, incident_id=incident.id, kind="note",
                           summary=f"note {n} {TRACE}")
    session.commit()
    login_as("oncall")
    for path in ("/catalog/services/order", f"/incidents/{incident.id}"):
        app.config["GRAFANA_URL"] = None
        client.get(path)  # warm caches shared by both renders
        without = _statements(client, connection, path)
        assert without > 3  # the page reads the database through this connection
        app.config["GRAFANA_URL"] = GRAFANA
        assert _statements(client, connection, path) == without, path


def test_without_loki_or_tempo_only_dashboards_are_linked(app, client, login_as, session,
                                                          order):
    incident = incidents.declare(session=session, title="Orders failing", severity="sev2",
                                 actor_email="oncall@test.example", customer_facing=False,
                                 tenant_slugs=[], service_slugs=["order"])
    timeline.add_entry(session=session, incident_id=incident.id, kind="status",
                       summary=f"checkout 500s, trace {TRACE}")
    session.commit()
    login_as("oncall")
    app.config.update(GRAFANA_URL=GRAFANA, LOKI_URL=None, TEMPO_URL=None)
    for path in ("/catalog/services/order", f"/incidents/{incident.id}"):
        hrefs = grafana_hrefs(client.get(path).get_data(as_text=True))
        assert any("/d/system-overview/" in h for h in hrefs), path
        assert not [h for h in hrefs if "/explore?" in h], path
    app.config["TEMPO_URL"] = "http://tempo.monitoring:3200"  # traces, still no logs
    hrefs = grafana_hrefs(client.get(f"/incidents/{incident.id}").get_data(as_text=True))
    assert [explore_expr(h) for h in hrefs if "/explore?" in h] == [TRACE]
