"""Catalog pages through the test client: permissions, audit, validation, sanitizing."""
import io

import pytest
from sqlalchemy import select

from portal.auth.models import AuditEntry
from portal.catalog import readiness, runbooks
from portal.catalog import service as catalog

PAGES = ["/catalog/", "/catalog/search?q=orders", "/catalog/graph", "/catalog/graph?focus=redis",
         "/catalog/services/order", "/catalog/services/order/scorecard", "/catalog/scorecards",
         "/catalog/readiness-guide", "/catalog/runbooks", "/catalog/runbooks/vault-sealed",
         "/catalog/catalog-info.yaml", "/catalog/services/order/catalog-info.yaml",
         "/catalog/clusters"]


def audits(session, action):
    return list(session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


@pytest.mark.parametrize("role, status", [("developer", 200), ("oncall", 200),
                                          ("manager", 200), ("admin", 200),
                                          ("tenant_viewer", 403)])
def test_read_pages_by_role(seeded, client, login_as, role, status):
    login_as(role)
    for page in PAGES:
        assert client.get(page).status_code == status, page


def test_anonymous_visitors_are_sent_to_sign_in(seeded, client):
    response = client.get("/catalog/graph")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


@pytest.mark.parametrize("role, status", [("developer", 200), ("oncall", 200), ("admin", 200),
                                          ("manager", 403), ("tenant_viewer", 403)])
def test_runbook_editing_is_for_developers_and_oncall(seeded, client, login_as, role, status):
    login_as(role)
    assert client.get("/catalog/runbooks/vault-sealed/edit").status_code == status
    assert client.get("/catalog/runbooks/new").status_code == status


@pytest.mark.parametrize("role, status", [("developer", 200), ("manager", 200),
                                          ("oncall", 403), ("tenant_viewer", 403)])
def test_import_is_for_developers_and_managers(seeded, client, login_as, role, status):
    login_as(role)
    assert client.get("/catalog/import").status_code == status


def test_service_page_shows_graph_scorecard_runbooks_and_blast_radius(seeded, client, login_as):
    login_as("developer")
    body = client.get("/catalog/services/postgresql").get_data(as_text=True)
    assert 'id="service-graph"' in body and "/vendor/plotly.min.js" in body
    assert 'id="scorecard-summary"' in body and 'id="readiness-score"' in body
    assert "Database connection errors" in body  # its runbook
    assert "single point of failure" in body
    assert "RDS daily snapshots" in body and "meridian-prod" not in body.split("Runs in")[0]


def test_edit_runbook_sanitizes_markdown_and_is_audited(seeded, client, login_as, session):
    user = login_as("oncall")
    response = client.post_form("/catalog/runbooks/vault-sealed/edit", {
        "title": "Vault sealed", "slug": "ignored", "service": "vault",
        "alertnames": "VaultSealed, VaultDown",
        "body": "## Unseal\n\n<script>alert(1)</script>\n\n[bad](javascript:alert(1)) "
                "[ok](https://example.org)\n\n<img src=x onerror=alert(1)>"})
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/catalog/runbooks/vault-sealed")
    page = client.get("/catalog/runbooks/vault-sealed").get_data(as_text=True)
    article = page.split('id="runbook-body">')[1].split("</article>")[0]
    assert "<h2>Unseal</h2>" in article and "<script" not in article
    # Dangerous markup survives only as visible text, never as a live link or element.
    assert 'href="javascript:' not in article and "<img" not in article
    assert "&lt;img src=x" in article
    assert 'href="https://example.org"' in article
    entry = audits(session, "catalog.runbook_update")[-1]
    assert (entry.actor_email, entry.target_type) == (user.email, "runbook")
    assert entry.details["alertnames"] == ["VaultDown", "VaultSealed"]
    assert runbooks.get(session=session, slug="vault-sealed").updated_by == user.email


def test_new_runbook_validates_and_refuses_duplicates(seeded, client, login_as, session):
    login_as("developer")
    bad = client.post_form("/catalog/runbooks/new", {"title": "", "slug": "Bad Slug",
                                                     "body": "", "alertnames": "ok, not-ok!"})
    text = bad.get_data(as_text=True)
    assert bad.status_code == 422
    assert "Give the runbook a title." in text and "single hyphens" in text
    assert "Not valid Prometheus alert names: not-ok!" in text
    dup = client.post_form("/catalog/runbooks/new", {"title": "X", "slug": "vault-sealed",
                                                     "body": "x"})
    assert dup.status_code == 422 and "already has this address" in dup.get_data(as_text=True)
    good = client.post_form("/catalog/runbooks/new", {"title": "Search reindex",
                                                      "slug": "search-reindex", "service": "search",
                                                      "body": "Reindex from PostgreSQL.",
                                                      "alertnames": "SearchIndexLag"})
    assert good.status_code == 303
    assert audits(session, "catalog.runbook_create")[-1].details["slug"] == "search-reindex"


def test_runbook_lookup_for_alerts_and_services(seeded, client, login_as):
    login_as("oncall")
    by_alert = client.get("/catalog/runbooks/lookup?alertname=VaultSealed")
    assert by_alert.status_code == 303 and by_alert.headers["Location"].endswith("/vault-sealed")
    burn = client.get("/catalog/runbooks/lookup?alertname=ErrorBudgetBurn&service=order")
    assert burn.headers["Location"].endswith("/catalog/runbooks/error-budget-burn")
    fallback = client.get("/catalog/runbooks/lookup?alertname=NobodyWroteThisUp&service=order")
    assert fallback.headers["Location"].endswith("/catalog/runbooks/order-runbook")
    assert client.get("/catalog/runbooks/lookup").status_code == 400
    missing = client.get("/catalog/runbooks/lookup?alertname=Nope&service=stripe")
    assert missing.status_code == 404 and "No runbook answers" in missing.get_data(as_text=True)


def test_import_view_reports_bad_yaml_as_422_and_audits_success(seeded, client, login_as,
                                                                session):
    login_as("developer")
    bad = client.post_form("/catalog/import", {"text": "kind: [unclosed"})
    assert bad.status_code == 422 and "Not valid YAML" in bad.get_data(as_text=True)
    assert audits(session, "catalog.import") == []
    exported = client.get("/catalog/services/order/catalog-info.yaml")
    assert exported.mimetype == "application/yaml"
    good = client.post_form("/catalog/import", {
        "descriptor": (io.BytesIO(exported.data), "catalog-info.yaml")},
        content_type="multipart/form-data")
    assert good.status_code == 303
    assert audits(session, "catalog.import")[-1].details == {"created": [], "updated": ["order"]}
    binary = client.post_form("/catalog/import", {"descriptor": (io.BytesIO(b"\xff\xfe"), "x")},
                              content_type="multipart/form-data")
    assert binary.status_code == 422


def test_recording_a_score_is_audited(seeded, client, login_as, session):
    login_as("manager")
    response = client.post_form("/catalog/services/order/scorecard")
    assert response.status_code == 303
    entry = audits(session, "catalog.score_snapshot")[-1]
    order = catalog.get_service(session=session, slug="order")
    latest = readiness.trend(session=session, service=order)[-1]
    assert (entry.target_type, entry.target_id) == ("service", str(order.id))
    assert entry.details == {"score": latest.score, "failing": latest.failing}
    assert len(readiness.trend(session=session, service=order)) == 2
    assert "Score recorded" in client.get(response.headers["Location"]).get_data(as_text=True)


def test_bad_parameters_get_clear_4xx(seeded, client, login_as):
    login_as("developer")
    assert client.get("/catalog/graph?focus=ghost").status_code == 404
    assert client.get("/catalog/services/ghost/scorecard").status_code == 404
    assert client.get("/catalog/search?q=" + "x" * 201).status_code == 400
    fragment = client.htmx("GET", "/catalog/search?q=rabbitmq")
    assert fragment.status_code == 200 and "<html" not in fragment.get_data(as_text=True)
    assert "RabbitMQ queue backup" in fragment.get_data(as_text=True)
