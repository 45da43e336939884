"""The job page's ArgoCD panel: the live Application and its resources read from ArgoCD
(a local HTTP server checking the documented API, tests/fake_argocd.py), polling while the
rollout moves and stopping once it settles; who may see it; ArgoCD down is a readable 503."""
from __future__ import annotations

import re
import uuid

import pytest

from portal.catalog import service as catalog
from portal.selfservice.models import Job
from tests.fake_argocd import FakeArgoCD

pytestmark = pytest.mark.integration
COMMIT = "0123456789abcdef0123456789abcdef01234567"


@pytest.fixture
def meridian(session):
    """The order service, as the demo seed has it."""
    team = catalog.upsert_team(session=session, slug="platform", name="Platform Engineering",
                               chat_channel="#platform")
    order = catalog.upsert_service(session=session, slug="order", team=team,
                                   name="Order Service", kind="service", tier=1)
    session.commit()
    return {"order": order}


@pytest.fixture
def argocd(app, monkeypatch):
    with FakeArgoCD(apps={"order-staging"}) as fake:
        monkeypatch.setitem(app.config, "ARGOCD_URL", fake.url)
        monkeypatch.setitem(app.config, "ARGOCD_TOKEN", "test-token")
        yield fake


def deploy_job(session, meridian, user, **over) -> Job:
    fields = dict(template="service-deploy", action="deploy", tier="staging",
                  target="gitops", gate="auto", phase="apply", service=meridian["order"],
                  params={"service": "order", "environment": "staging", "image_tag": "v4.3.0"},
                  requested_by=user, status="succeeded",
                  result={"commit": COMMIT, "previous_tag": "v4.2.0", "tag": "v4.3.0",
                          "sync": "Synced", "rollout": {"outcome": "healthy"}})
    job = Job(id=uuid.uuid4(), **{**fields, **over})
    session.add(job)
    session.flush()
    return job


def test_the_panel_polls_while_progressing_and_stops_when_healthy(client, login_as, session,
                                                                  meridian, argocd):
    job = deploy_job(session, meridian, login_as("developer"))
    app = argocd.apps["order-staging"]
    app.update(revision=COMMIT, status="Synced", health="Progressing", phase="Succeeded")
    moving = client.htmx("GET", f"/selfservice/jobs/{job.id}/argocd")
    html = moving.get_data(as_text=True)
    assert moving.status_code == 200
    assert 'data-sync="Synced"' in html and 'data-health="Progressing"' in html
    assert 'data-phase="Succeeded"' in html and "(this job's commit)" in html
    assert 'data-polling="yes"' in html and 'hx-trigger="every 2s"' in html
    assert re.search(r'data-resource="Deployment/order-staging">.*?Progressing', html, re.S)
    assert re.search(r'data-resource="Service/order-staging">.*?Healthy', html, re.S)
    assert "<html" not in html  # the fragment only

    app["health"] = "Healthy"
    settled = client.htmx("GET", f"/selfservice/jobs/{job.id}/argocd").get_data(as_text=True)
    assert 'data-health="Healthy"' in settled and 'data-polling="no"' in settled
    assert "hx-trigger" not in settled
    assert argocd.requests[-1] == ("GET", "/api/v1/applications/order-staging", None)


def test_a_degraded_resource_shows_its_message_and_the_flag(client, login_as, session,
                                                           meridian, argocd):
    job = deploy_job(session, meridian, login_as("developer"),
                     status_reason="Deployed, but ArgoCD reports the application Degraded.")
    job.result = {**job.result, "rollout": {"outcome": "degraded", "health": "Degraded"}}
    session.commit()
    argocd.apps["order-staging"].update(revision=COMMIT, status="Synced", health="Degraded")
    panel = client.get(f"/selfservice/jobs/{job.id}/argocd").get_data(as_text=True)
    assert "<html" in panel  # a plain request gets the whole page
    assert 'Deployment "order-staging" exceeded its progress deadline' in \
        panel.replace("&#34;", '"')
    page = client.get(f"/selfservice/jobs/{job.id}").get_data(as_text=True)
    assert 'id="job-flag"' in page and "flagged: degraded" in page
    assert 'class="critical-warning" role="alert">Deployed, but ArgoCD' in page
    assert f'hx-get="/selfservice/jobs/{job.id}/argocd" hx-trigger="load"' in page


def test_a_later_revision_is_not_claimed_as_this_jobs(client, login_as, session, meridian,
                                                     argocd):
    job = deploy_job(session, meridian, login_as("developer"))
    argocd.apps["order-staging"].update(revision="f" * 40, status="Synced", health="Healthy")
    html = client.htmx("GET", f"/selfservice/jobs/{job.id}/argocd").get_data(as_text=True)
    assert "not this job's commit <code>0123456789ab</code>" in html


def test_argocd_down_is_a_readable_503_that_retries(client, login_as, session, meridian,
                                                   argocd):
    job = deploy_job(session, meridian, login_as("developer"), status="running")
    argocd.down = True
    response = client.htmx("GET", f"/selfservice/jobs/{job.id}/argocd")
    assert response.status_code == 503
    html = response.get_data(as_text=True)
    assert 'id="argocd-error"' in html and 'hx-trigger="every 5s"' in html


def test_not_configured_says_so_without_polling(client, login_as, session, meridian,
                                               app, monkeypatch):
    monkeypatch.setitem(app.config, "ARGOCD_URL", None)
    job = deploy_job(session, meridian, login_as("developer"))
    html = client.htmx("GET", f"/selfservice/jobs/{job.id}/argocd").get_data(as_text=True)
    assert "ArgoCD's API is not configured here" in html and "hx-trigger" not in html


@pytest.mark.parametrize("roles,status", [(("tenant_viewer",), 403), (("oncall",), 200)])
def test_who_may_read_the_panel(client, login_as, session, meridian, argocd, make_user,
                                roles, status):
    job = deploy_job(session, meridian, make_user("developer"))
    login_as(*roles)
    assert client.htmx("GET", f"/selfservice/jobs/{job.id}/argocd").status_code == status


def test_unknown_or_non_deploy_jobs_are_404(client, login_as, session, meridian, argocd):
    user = login_as("developer")
    assert client.get("/selfservice/jobs/not-a-uuid/argocd").status_code == 404
    assert client.get(f"/selfservice/jobs/{uuid.uuid4()}/argocd").status_code == 404
    env_job = deploy_job(session, meridian, user, action="create", template="dev-environment")
    env_job.params = {"name": "platform-x"}
    session.flush()
    assert client.get(f"/selfservice/jobs/{env_job.id}/argocd").status_code == 404
