"""The status page over HTTP: who sees it, the JSON summary, the forms under hostile input,
and statements that do not grow with the number of incidents."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import event as sa_event
from sqlalchemy import select

from portal.auth.models import AuditEntry
from portal.db import utcnow
from portal.statuspage.models import Maintenance, Subscription


def test_tenant_viewer_sees_own_page_and_not_another(client, login_as, world, declare):
    incident = declare(services=["order"], tenants=["acme-sp"], severity="sev1",
                       summary="Checkout errors for some orders.")
    declare(services=["search"], tenants=["globex-sp"], title="Globex-only trouble")
    login_as("tenant_viewer", tenant=world["acme"])
    page = client.get("/status/acme-sp")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'id="component-order"' in html and "Major outage" in html
    assert html.count('class="uptime-bar state-') == 3 * 90
    assert f"status-incident-{incident.id}" in html
    assert "We are investigating an issue" in html  # the published customer update
    assert "Globex-only trouble" not in html
    fragment = client.htmx("GET", "/status/acme-sp").get_data(as_text=True)
    assert fragment.startswith('<section id="status-components"') and "<html" not in fragment
    assert client.get("/status/globex-sp").status_code == 404
    assert client.get("/status/globex-sp/api/v2/summary.json").status_code == 404
    assert client.get("/status/acme-sp/maintenance").status_code == 403


def test_incident_without_public_update_shows_its_summary(client, login_as, world, declare,
                                                          session):
    incident = declare(services=["order"], tenants=["acme-sp"], summary="Slow label printing.")
    for update in incident_updates(session, incident.id):
        session.delete(update)
    session.commit()
    login_as("developer")
    assert "Slow label printing." in client.get("/status/acme-sp").get_data(as_text=True)


def incident_updates(session, incident_id):
    from portal.incidents import service as incidents
    return incidents.updates(session=session, incident_id=incident_id)


def test_anonymous_is_sent_to_login(client, world):
    assert client.get("/status/acme-sp").status_code == 302
    assert client.get("/status/acme-sp/api/v2/summary.json").status_code == 302


def test_summary_json_has_the_statuspage_shape(client, login_as, world, declare):
    incident = declare(services=["order"], tenants=["acme-sp"], severity="sev2")
    login_as("tenant_viewer", tenant=world["acme"])
    response = client.get("/status/acme-sp/api/v2/summary.json")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    body = response.get_json()
    assert set(body) == {"page", "components", "incidents", "scheduled_maintenances", "status"}
    assert body["page"]["id"] == "acme-sp" and body["page"]["url"].endswith("/status/acme-sp")
    statuses = {c["id"]: c["status"] for c in body["components"]}
    assert statuses == {"api-gateway": "degraded_performance", "order": "partial_outage",
                        "search": "operational"}
    assert {"id", "name", "status", "position", "group_id", "only_show_if_degraded"} <= set(
        body["components"][0])
    [found] = body["incidents"]
    assert found["id"] == str(incident.id) and found["status"] == "investigating"
    assert found["impact"] == "major"
    assert found["incident_updates"][0]["body"].startswith("We are investigating")
    assert [c["id"] for c in found["components"]] == ["api-gateway", "order"]
    assert body["status"] == {"indicator": "major", "description": "Partial System Outage"}


def _maintenance_form(**overrides):
    start = (utcnow() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    end = (utcnow() + timedelta(days=1, hours=2)).strftime("%Y-%m-%dT%H:%M")
    return {"title": "Search reindex", "description": "Search may be slow.",
            "components": ["search"], "starts_at": start, "ends_at": end, **overrides}


def test_staff_plan_maintenance_audited_and_shown(client, login_as, world, session):
    login_as("oncall")
    response = client.post_form("/status/acme-sp/maintenance", _maintenance_form())
    assert response.status_code == 303
    window = session.scalar(select(Maintenance))
    assert window.service_slugs == ["search"]
    assert session.scalar(select(AuditEntry).where(
        AuditEntry.action == "statuspage.maintenance")).target_id == str(window.id)
    body = client.get("/status/acme-sp/api/v2/summary.json").get_json()
    [planned] = body["scheduled_maintenances"]
    assert planned["status"] == "scheduled" and planned["components"][0]["id"] == "search"


@pytest.mark.parametrize("overrides", [
    {"title": ""}, {"title": "x" * 201}, {"components": ["postgres-nowhere"]},
    {"components": []}, {"starts_at": "2026-13-45T99:99"}, {"starts_at": "٢٠٢٦-١٢-٠٨T10:00"},
    {"starts_at": "99999999999-01-01T00:00"},
    {"ends_at": "2026-01-01T00:00"}, {"description": "d" * 5001},
])
def test_hostile_maintenance_form_is_refused(client, login_as, world, session, overrides):
    login_as("manager")
    response = client.post_form("/status/acme-sp/maintenance", _maintenance_form(**overrides))
    assert response.status_code == 422
    assert 'class="field-error"' in response.get_data(as_text=True)
    assert session.scalar(select(Maintenance)) is None


def test_nul_byte_in_maintenance_form_is_a_400(client, login_as, world):
    login_as("manager")
    response = client.post_form("/status/acme-sp/maintenance",
                                _maintenance_form(title="bad\x00title"))
    assert response.status_code == 400


@pytest.mark.parametrize("form", [
    {"channel": "email", "target": "not-an-address"},
    {"channel": "pigeon", "target": "a@example.com"},
    {"channel": "webhook", "target": "http://10.0.0.1/hook"},
    {"channel": "webhook", "target": "file:///etc/passwd"},
    {"channel": "email", "target": "a@example.com", "component": "nope"},
    {"channel": "email", "target": "a" * 600 + "@example.com"},
])
def test_hostile_subscribe_form_is_refused(client, login_as, world, session, form):
    login_as("tenant_viewer", tenant=world["acme"])
    response = client.post_form("/status/acme-sp/subscriptions", form)
    assert response.status_code == 422
    assert session.scalar(select(Subscription)) is None


def test_subscribe_is_audited_and_bound_to_the_page_tenant(client, login_as, world, session):
    login_as("tenant_viewer", tenant=world["acme"])
    response = client.post_form("/status/acme-sp/subscriptions",
                                {"channel": "email", "target": "Ops@Acme.example",
                                 "component": "order"})
    assert response.status_code == 303
    sub = session.scalar(select(Subscription))
    assert (sub.tenant_id, sub.target, sub.component) == (world["acme"].id,
                                                          "ops@acme.example", "order")
    assert sub.confirmed_at is None
    assert client.post_form("/status/globex-sp/subscriptions",
                            {"channel": "email", "target": "x@acme.example"}
                            ).status_code == 404


def _count_statements(connection, call) -> int:
    seen = []

    def listener(*args, **kwargs):
        seen.append(args[2])
    sa_event.listen(connection, "before_cursor_execute", listener)
    try:
        assert call().status_code == 200
    finally:
        sa_event.remove(connection, "before_cursor_execute", listener)
    return len(seen)


def test_page_statements_do_not_grow_with_incidents(client, login_as, world, declare,
                                                    connection, session):
    login_as("tenant_viewer", tenant=world["acme"])

    def add(n):
        for i in range(n):
            opened = utcnow() - timedelta(days=i % 80, hours=3)
            declare(services=["order", "search"][: 1 + i % 2], tenants=["acme-sp"],
                    opened_at=opened, resolved_at=opened + timedelta(hours=1))
        session.commit()

    add(10)
    client.get("/status/acme-sp")  # builds the per-catalog-version dependency graph cache
    few = _count_statements(connection, lambda: client.get("/status/acme-sp"))
    add(90)
    many = _count_statements(connection, lambda: client.get("/status/acme-sp"))
    assert many == few
    json_many = _count_statements(
        connection, lambda: client.get("/status/acme-sp/api/v2/summary.json"))
    assert json_many <= many
