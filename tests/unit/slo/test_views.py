"""SLO pages: permissions, overview filters and sorting, detail, CSV, spec editing with
validation, OpenSLO round trip, and the audited manager override."""
from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.auth.models import AuditEntry
from portal.catalog.models import ServiceEvent
from portal.db import utcnow
from portal.slo import samples
from portal.slo.models import PolicyOverride, Slo
from tests.unit.slo.factories import fill, make_service, make_slo


@pytest.fixture
def world(session):
    """Two teams: a healthy SLO and an exhausted one."""
    now = samples.floor_minute(utcnow())
    calm, burnt = make_service(session), make_service(session)
    ok = make_slo(session, calm, objective="99")
    bad = make_slo(session, burnt, objective="99.9")
    fill(session, ok, end=now - timedelta(days=2), minutes=30, good=100, total=100)
    fill(session, bad, end=now - timedelta(days=2), minutes=30, good=90, total=100)
    session.commit()
    return {"calm": calm, "burnt": burnt, "ok": ok, "bad": bad}


def _audit(session, action):
    return list(session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


@pytest.mark.parametrize("role,status", [("developer", 200), ("oncall", 200), ("manager", 200),
                                         ("admin", 200), ("tenant_viewer", 403)])
def test_overview_permissions(client, login_as, world, role, status):
    login_as(role)
    assert client.get("/slo/").status_code == status
    assert client.get(f"/slo/{world['ok'].id}").status_code == status
    assert client.get("/slo/export.csv").status_code == status


def test_anonymous_is_sent_to_login(client):
    assert client.get("/slo/").status_code in (302, 303)


def test_overview_filters_by_team_and_state_as_fragment(client, login_as, world):
    login_as("manager")
    team = world["burnt"].team.slug
    frag = client.htmx("GET", f"/slo/?team={team}")
    body = frag.get_data(as_text=True)
    assert frag.status_code == 200 and "<html" not in body
    assert world["burnt"].name in body and world["calm"].name not in body
    by_state = client.htmx("GET", "/slo/?state=exhausted").get_data(as_text=True)
    assert world["burnt"].name in by_state and world["calm"].name not in by_state
    assert client.get("/slo/?state=bogus").status_code == 400
    assert client.get("/slo/?sort=nope").status_code == 400


def test_sorting_puts_exhausted_first_by_state(client, login_as, world):
    login_as("manager")
    body = client.htmx("GET", "/slo/?sort=state").get_data(as_text=True)
    assert body.index(world["burnt"].name) < body.index(world["calm"].name)
    body = client.htmx("GET", "/slo/?sort=remaining&dir=desc").get_data(as_text=True)
    assert body.index(world["calm"].name) < body.index(world["burnt"].name)


def test_detail_has_words_charts_tables_and_freeze(client, login_as, world):
    login_as("manager")
    body = client.get(f"/slo/{world['bad'].id}").get_data(as_text=True)
    assert "Budget exhausted" in body and 'id="deploy-freeze"' in body
    for chart in ("chart-burndown", "chart-sli", "chart-burn"):
        assert chart in body
    assert 'id="daily"' in body and "/vendor/plotly.min.js" in body
    assert client.get("/slo/999999").status_code == 404


def test_csv_export_numbers(client, login_as, world):
    login_as("oncall")
    response = client.get(f"/slo/export.csv?service={world['burnt'].slug}")
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert response.mimetype == "text/csv" and len(rows) == 1
    row = rows[0]
    assert (row["good_events"], row["total_events"], row["policy_state"]) == ("2700", "3000",
                                                                              "exhausted")
    assert row["budget_remaining_pct"] == "-9900.0000"   # 300 bad of 3 allowed


def _form(service, **over):
    data = {"service": service.slug, "name": "latency", "sli_kind": "ratio",
            "objective": "99.5", "window_days": "30", "owner": "me", "description": "",
            "good_query": 'http_requests_total{code="200"}',
            "total_query": "http_requests_total", "latency_threshold_ms": ""}
    return {**data, **over}


@pytest.mark.parametrize("over,field_msg", [
    ({"objective": "100"}, "strictly between 0 and 100"),
    ({"objective": "0"}, "strictly between 0 and 100"), ({"objective": "abc"}, "objective"),
    ({"window_days": "91"}, "From 1 to 90"), ({"name": "Bad Name"}, "lowercase"),
    ({"good_query": "rate(x[5m])"}, "counter selector"),
    ({"sli_kind": "latency"}, "threshold"), ({"name": "availability"}, "already has")])
def test_create_validation_gives_422(client, login_as, world, session, over, field_msg):
    login_as("developer")
    response = client.post_form("/slo/new", _form(world["calm"], **over))
    assert response.status_code == 422
    assert field_msg in response.get_data(as_text=True)
    assert not _audit(session, "slo.create")


def test_create_edit_delete_are_audited(client, login_as, world, session):
    login_as("developer")
    created = client.post_form("/slo/new", _form(world["calm"]))
    assert created.status_code == 303
    slo = session.scalar(select(Slo).where(Slo.service_id == world["calm"].id,
                                           Slo.name == "latency"))
    edited = client.post_form(f"/slo/{slo.id}/edit", _form(world["calm"], objective="99.25"))
    assert edited.status_code == 303
    session.refresh(slo)
    assert str(slo.objective) == "99.2500"
    slo_id = slo.id
    assert client.post_form(f"/slo/{slo_id}/delete").status_code == 303
    session.expire_all()
    assert session.scalar(select(Slo).where(Slo.id == slo_id)) is None
    assert [len(_audit(session, a)) for a in ("slo.create", "slo.update", "slo.delete")] == [1, 1, 1]


def test_oncall_cannot_edit(client, login_as, world):
    login_as("oncall")
    assert client.post_form("/slo/new", _form(world["calm"])).status_code == 403


def test_openslo_export_then_import_round_trip(client, login_as, world, session):
    login_as("manager")
    exported = client.get("/slo/openslo.yaml").get_data(as_text=True)
    assert "apiVersion: openslo/v1" in exported and "ratioMetric" in exported
    changed = exported.replace("target: 0.99\n", "target: 0.995\n").replace(
        "  name: availability\n", "  name: imported\n", 1)
    response = client.post_form("/slo/import", {"document": changed})
    assert response.status_code == 303
    assert _audit(session, "slo.import")
    assert session.scalar(select(Slo).where(Slo.name == "imported")) is not None


@pytest.mark.parametrize("doc,msg", [
    ("not: [yaml", "Not valid YAML"), ("apiVersion: v2\nkind: SLO", "openslo/v1"),
    ("apiVersion: openslo/v1\nkind: SLO\nmetadata: {name: x}\nspec: {}", "spec.objectives")])
def test_import_rejects_bad_documents(client, login_as, doc, msg):
    login_as("manager")
    response = client.post_form("/slo/import", {"document": doc})
    assert response.status_code == 422 and msg in response.get_data(as_text=True)


def test_manager_override_lifts_freeze_and_is_audited(client, login_as, world, session):
    burnt = world["burnt"]
    page = f"/catalog/services/{burnt.slug}"
    login_as("manager")
    assert 'id="deploy-freeze"' in client.get(page).get_data(as_text=True)
    short = client.post_form(f"/slo/services/{burnt.slug}/override",
                             {"justification": "because", "hours": "4"})
    assert short.status_code == 422
    granted = client.post_form(f"/slo/services/{burnt.slug}/override",
                               {"justification": "Security fix CVE-2026-1234 must ship today",
                                "hours": "4"})
    assert granted.status_code == 303
    body = client.get(page).get_data(as_text=True)
    assert 'id="deploy-freeze"' not in body and "CVE-2026-1234" in body
    override = session.scalar(select(PolicyOverride).where(PolicyOverride.service_id == burnt.id))
    assert _audit(session, "slo.override_grant")[0].details["hours"] == 4
    assert client.post_form(f"/slo/overrides/{override.id}/revoke").status_code == 303
    assert 'id="deploy-freeze"' in client.get(page).get_data(as_text=True)
    kinds = set(session.scalars(select(ServiceEvent.kind).where(ServiceEvent.service_id == burnt.id)))
    assert {"slo.override_granted", "slo.override_revoked"} <= kinds


@pytest.mark.parametrize("role", ["developer", "oncall"])
def test_only_managers_override(client, login_as, world, role):
    login_as(role)
    response = client.post_form(f"/slo/services/{world['burnt'].slug}/override",
                                {"justification": "x" * 30, "hours": "4"})
    assert response.status_code == 403


def test_home_panel_lists_exhausted_for_managers_only(client, login_as, world):
    login_as("manager")
    body = client.get("/").get_data(as_text=True)
    assert 'id="slo-home-panel"' in body and world["burnt"].name in body


def test_home_panel_hidden_from_developers(client, login_as, world):
    login_as("developer")
    assert 'id="slo-home-panel"' not in client.get("/").get_data(as_text=True)


def test_rules_endpoint(client, login_as, world):
    login_as("oncall")
    body = client.get("/slo/rules.yml").get_data(as_text=True)
    assert "ErrorBudgetBurn" in body and f"{world['burnt'].slug}-availability" in body
