"""CI uploads Trivy JSON reports with a `ci`-scoped API token; the pages count CVEs by
service and severity; a critical CVE in the image being promoted blocks a prod deploy on
the form and on the server alike, until a manager's audited override."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from portal.auth import api_tokens
from portal.auth.models import AuditEntry
from portal.catalog import service as catalog
from portal.catalog.vulnerability_models import VulnerabilityFinding, VulnerabilityReport
from portal.selfservice import policy
from portal.selfservice.models import Job
from tests.conftest import TEST_PASSWORD
from tests.integration.test_query_counts import counting
from tests.unit.slo.factories import make_service

pytestmark = pytest.mark.integration
TRIVY = Path(__file__).resolve().parents[2] / "data" / "trivy"
URL = "/api/v1/vulnerability-reports"


def _report(name: str) -> bytes:
    return (TRIVY / name).read_bytes()


@pytest.fixture
def svc(session):
    found = make_service(session)
    found.kind = "service"
    session.commit()
    return found


@pytest.fixture
def ci_token(session, make_user):
    """The secret of a `ci`-scoped token of an internal developer."""
    issued = api_tokens.create(session=session, owner=make_user("developer"), name="ci",
                               scopes=["ci"], days=30, max_days=365)
    session.commit()
    return issued.secret


def _upload(client, token: str, body: bytes, service: str | None = None, **kwargs):
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    headers.update(kwargs.pop("headers", {}))
    return client.post(URL, data=body, headers=headers,
                       query_string={"service": service} if service else None, **kwargs)


def test_upload_stores_findings_and_the_pages_count_them(client, login_as, session, svc,
                                                         ci_token):
    response = _upload(client, ci_token, _report("order-critical.json"), svc.slug)
    assert response.status_code == 201, response.get_data(as_text=True)
    body = response.get_json()
    assert body["image"] == "1.4.2" and body["repository"] == "ghcr.io/meridian/order"
    assert body["digest"].startswith("sha256:9f86d081")
    assert body["counts"] == {"CRITICAL": 1, "HIGH": 2, "MEDIUM": 1, "LOW": 1, "UNKNOWN": 0}
    report = session.scalar(select(VulnerabilityReport).where(
        VulnerabilityReport.service_id == svc.id))
    assert [f.vulnerability_id for f in report.findings][:1] == ["CVE-2024-45491"]
    assert session.scalar(select(AuditEntry).where(
        AuditEntry.action == "vulnerability_report.upload",
        AuditEntry.target_id == svc.slug)) is not None

    login_as("developer")
    index = client.get("/catalog/vulnerabilities").get_data(as_text=True)
    row = index.split(f'data-service="{svc.slug}"', 1)[1].split("</tr>", 1)[0]
    assert 'data-severity="critical"><span class="badge bad">1</span>' in row
    assert 'data-severity="high"><span class="badge bad">2</span>' in row
    image = client.get(body["url"]).get_data(as_text=True)
    assert "<code>2.5.0-1+deb12u1</code>" in image and "<code>3.2.0</code>" not in image
    assert "no fix yet" in image  # ncurses has no fixed version
    assert 'id="image-deploy-block"' in image
    page = client.get(f"/catalog/services/{svc.slug}").get_data(as_text=True)
    assert 'id="critical-cves">1 critical' in page


def test_a_new_report_of_the_same_image_replaces_the_old_one(session, client, svc, ci_token):
    assert _upload(client, ci_token, _report("order-critical.json"), svc.slug).status_code == 201
    again = _upload(client, ci_token, _report("order-fixed.json"), svc.slug)
    assert again.status_code == 201
    reports = session.scalars(select(VulnerabilityReport).where(
        VulnerabilityReport.service_id == svc.id)).all()
    assert len(reports) == 1 and reports[0].counts["LOW"] == 1
    assert reports[0].counts["CRITICAL"] == 0
    assert session.scalar(select(VulnerabilityFinding).where(
        VulnerabilityFinding.vulnerability_id == "CVE-2024-45491")) is None


def test_unknown_extra_fields_are_accepted_and_a_digest_names_an_untagged_image(
        client, svc, ci_token):
    response = _upload(client, ci_token, _report("extra-fields.json"), svc.slug)
    assert response.status_code == 201, response.get_data(as_text=True)
    body = response.get_json()
    assert body["image"].startswith("sha256:4e074085") and body["counts"]["MEDIUM"] == 1


@pytest.mark.parametrize("body,status,error", [
    (_report("malformed.json"), 422, "invalid_report"),
    (b"{not json", 400, "invalid_json"),
    (b'{"SchemaVersion": NaN}', 400, "invalid_json"),
    (b"[" * 100_000 + b"]" * 100_000, 400, "invalid_json"),
    (b"[]", 422, "invalid_report"),
    (b'{"SchemaVersion": 1, "ArtifactName": "x:1"}', 422, "invalid_report"),
    (b'{"SchemaVersion": true, "ArtifactName": "x:1"}', 422, "invalid_report"),
    # The portal's input guard refuses a NUL anywhere in a JSON body before any view runs.
    (b'{"SchemaVersion": 2, "ArtifactName": "ghcr.io/meridian/order:1\\u0000"}', 400, None),
    (json.dumps({"SchemaVersion": 2, "ArtifactName": "ghcr.io/m/o:1", "Results": [
        {"Target": "t", "Vulnerabilities": [{"VulnerabilityID": "CVE-1",
                                             "PkgName": "p" * 5000}]}]}).encode(), 422,
     "invalid_report"),
    (b"\xff\xfe\x00garbage", 400, "invalid_json"),
])
def test_hostile_or_malformed_reports_are_4xx(client, svc, ci_token, body, status, error):
    response = _upload(client, ci_token, body, svc.slug)
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    assert error is None or response.get_json()["error"] == error


def test_size_media_type_and_service_are_checked(app, client, svc, ci_token):
    app.config["VULNERABILITY_REPORT_MAX_BYTES"] = 1000
    assert _upload(client, ci_token, _report("order-critical.json"), svc.slug).status_code == 413
    app.config["VULNERABILITY_REPORT_MAX_BYTES"] = 5 * 1024 * 1024
    assert _upload(client, ci_token, _report("order-fixed.json"), svc.slug,
                   headers={"Content-Type": "text/plain"}).status_code == 415
    assert _upload(client, ci_token, _report("order-fixed.json"),
                   "no-such-service").status_code == 404
    assert _upload(client, ci_token, _report("order-fixed.json"),
                   "Bad\x00Slug").status_code == 400


def test_reports_may_exceed_the_portals_general_body_limit(app, client, svc, ci_token):
    app.config["MAX_CONTENT_LENGTH"] = 1000
    body = _report("order-critical.json")
    assert len(body) > 1000
    assert _upload(client, ci_token, body, svc.slug).status_code == 201


def test_the_service_defaults_to_the_image_repositorys_last_segment(session, client, ci_token):
    team = catalog.upsert_team(session=session, slug="team-order-ci", name="Order CI",
                               chat_channel=None)
    catalog.upsert_service(session=session, slug="order", team=team, name="Order")
    session.commit()
    response = _upload(client, ci_token, _report("order-fixed.json"))
    assert response.status_code == 201 and response.get_json()["service"] == "order"


def test_tokens_need_the_ci_scope_an_internal_owner_and_no_tenant(
        client, session, svc, make_user, make_tenant):
    developer = make_user("developer")
    plain = api_tokens.create(session=session, owner=developer, name="dev", scopes=["developer"],
                              days=30, max_days=365)
    tenant_bound = api_tokens.create(session=session, owner=developer, name="t", scopes=["ci"],
                                     days=30, max_days=365, tenant_id=make_tenant().id)
    session.commit()
    body = _report("order-fixed.json")
    assert _upload(client, plain.secret, body, svc.slug).status_code == 403
    assert _upload(client, tenant_bound.secret, body, svc.slug).status_code == 403
    assert _upload(client, "mpt_" + "x" * 43, body, svc.slug).status_code == 401
    for roles in (("oncall",), ("tenant_viewer",)):
        with pytest.raises(api_tokens.TokenError):
            api_tokens.create(session=session, owner=make_user(*roles), name="x",
                              scopes=["ci"], days=1, max_days=365)
    assert session.scalar(select(VulnerabilityReport).where(
        VulnerabilityReport.service_id == svc.id)) is None


def test_a_browser_session_cannot_upload(client, login_as, svc):
    login_as("developer")
    response = client.post(URL, data=_report("order-fixed.json"),
                           headers={"Content-Type": "application/json",
                                    "X-CSRFToken": client.csrf_token()},
                           query_string={"service": svc.slug})
    assert response.status_code == 401 and response.get_json()["error"] == "token_required"


@pytest.mark.parametrize("roles,status", [(("tenant_viewer",), 403), (("oncall",), 200),
                                          (("developer",), 200)])
def test_who_may_read_the_pages(client, login_as, svc, roles, status):
    login_as(*roles)
    assert client.get("/catalog/vulnerabilities").status_code == status
    assert client.get(f"/catalog/vulnerabilities/{svc.slug}").status_code == status
    assert client.get(f"/catalog/vulnerabilities/{svc.slug}/1.0").status_code in (403, 404)


def _panel(client, svc, **args):
    response = client.htmx("GET", "/selfservice/templates/service-deploy/freeze",
                           query_string={"service": svc.slug, **args})
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _deploy(client, svc, tag: str, environment: str = "prod"):
    return client.post_form("/selfservice/templates/service-deploy",
                            {"service": svc.slug, "environment": environment,
                             "image_tag": tag})


def test_a_critical_cve_blocks_the_prod_deploy_on_form_and_server(client, login_as, session,
                                                                  svc, ci_token):
    assert _upload(client, ci_token, _report("order-critical.json"), svc.slug).status_code == 201
    login_as("developer")
    html = _panel(client, svc, environment="prod", image_tag="1.4.2")
    assert 'id="vulnerability-block"' in html and "1 critical vulnerability" in html
    assert 'disabled aria-describedby="vulnerability-reason"' in html
    assert 'id="vulnerability-break-glass"' in html
    refused = _deploy(client, svc, "1.4.2")
    assert refused.status_code == 422
    assert "1 critical vulnerability" in refused.get_data(as_text=True)
    assert session.query(Job).count() == 0
    # Staging, and an image whose scan has no critical finding, are not blocked.
    assert 'id="vulnerability-block"' not in _panel(client, svc, environment="staging",
                                                    image_tag="1.4.2")
    assert 'id="vulnerability-block"' not in _panel(client, svc, environment="prod",
                                                    image_tag="1.4.3")
    too_long = client.htmx("GET", "/selfservice/templates/service-deploy/freeze",
                           query_string={"service": svc.slug, "environment": "prod",
                                         "image_tag": "x" * 200})
    assert too_long.status_code == 400


def test_break_glass_is_the_managers_audited_override(client, login_as, session, svc, ci_token,
                                                      make_user):
    assert _upload(client, ci_token, _report("order-critical.json"), svc.slug).status_code == 201
    login_as("manager")
    page = client.get(f"/catalog/services/{svc.slug}").get_data(as_text=True)
    assert 'id="cve-break-glass"' in page
    granted = client.post_form(f"/slo/services/{svc.slug}/override",
                               {"justification": "Hotfix for the checkout outage, INC-88",
                                "hours": "2"})
    assert granted.status_code == 303
    assert session.scalar(select(AuditEntry).where(
        AuditEntry.action == "slo.override_grant", AuditEntry.target_id == svc.slug))
    developer = make_user("developer")
    client.get("/logout")
    client.post_form("/login", {"email": developer.email, "password": TEST_PASSWORD})
    assert 'id="vulnerability-block"' not in _panel(client, svc, environment="prod",
                                                    image_tag="1.4.2")
    accepted = _deploy(client, svc, "1.4.2")
    assert accepted.status_code == 303, accepted.get_data(as_text=True)[:500]
    assert session.query(Job).count() == 1


def test_approval_checks_the_image_again(session, svc, ci_token, client, make_user):
    """A prod job requested before its scan arrived is refused at approval."""
    job = Job(template="service-deploy", action="deploy", tier="prod", target=svc.slug,
              params={"service": svc.slug, "environment": "prod", "image_tag": "1.4.2"},
              gate="approval", status="awaiting_approval", service=svc,
              requested_by=make_user("developer"))
    session.add(job)
    session.commit()
    manager = make_user("manager")
    assert policy.check_approver(session=session, job=job, approver=manager) is None
    assert _upload(client, ci_token, _report("order-critical.json"), svc.slug).status_code == 201
    reason = policy.check_approver(session=session, job=job, approver=manager)
    assert reason and "critical vulnerability" in reason


def test_the_fleet_page_costs_the_same_queries_for_one_or_many_services(
        client, login_as, session, connection, ci_token):
    """No query per service or per report: the counts page stays flat as reports grow."""
    def statements() -> int:
        with counting(connection) as seen:
            assert client.get("/catalog/vulnerabilities").status_code == 200
        return len(seen)

    login_as("developer")
    first = make_service(session)
    session.commit()
    _upload(client, ci_token, _report("order-critical.json"), first.slug)
    statements()  # fills the per-version caches (on-call schedules) the page reads through
    one = statements()
    for _ in range(3):
        other = make_service(session)
        session.commit()
        _upload(client, ci_token, _report("order-critical.json"), other.slug)
        _upload(client, ci_token, _report("extra-fields.json"), other.slug)
    assert statements() == one
