"""The rollback form shows what the rollback would change before it is submitted: the image
tag and revision going back to against the current ones, the git change from the real
GitOps clone, and a unified diff per managed resource from ArgoCD's managed-resources
(a local HTTP server checking the documented API, tests/fake_argocd.py)."""
from __future__ import annotations

import re

import pytest

from portal.auth import service as accounts
from portal.extensions import db
from portal.selfservice import rollback_diff
from portal.selfservice.models import Job
from tests.conftest import PortalClient
from tests.fake_argocd import FakeArgoCD
from tests.integration.selfservice.test_engines import inline, job, submit  # noqa: F401
from tests.integration.selfservice.test_worker import make_user

pytestmark = pytest.mark.integration


@pytest.fixture
def deployed(worker_app, inline, tmp_path, monkeypatch):  # noqa: F811
    """order in staging deployed from v4.2.0 to v4.3.0 through the portal."""
    monkeypatch.setitem(worker_app.config, "SELFSERVICE_GITOPS_REPO", str(tmp_path / "gitops"))
    monkeypatch.setitem(worker_app.config, "SELFSERVICE_ARGOCD_POLL_SECONDS", 0.01)
    with FakeArgoCD(apps={"order-staging"}) as fake:
        monkeypatch.setitem(worker_app.config, "ARGOCD_URL", fake.url)
        monkeypatch.setitem(worker_app.config, "ARGOCD_TOKEN", "test-token")
        deploy_id = submit(make_user("developer"), "service-deploy", service="order",
                           environment="staging", image_tag="v4.3.0")
        inline()
        done = job(deploy_id)
        assert done.status == "succeeded", done.status_reason
        fake.apps["order-staging"].update(live_tag="v4.3.0", target_tag="v4.3.0")
        yield fake, done


def _preview(environment="staging"):
    with db.session_scope() as session:
        return rollback_diff.preview(session=session, service_slug="order",
                                     environment=environment)


def test_preview_shows_versions_git_change_and_resource_diffs(deployed, tmp_path):
    fake, done = deployed
    found = _preview()
    assert str(found.deploy.id) == str(done.id)
    assert (found.current_tag, found.back_to_tag) == ("v4.3.0", "v4.2.0")
    assert found.synced_revision == done.result["commit"]
    assert found.current_revision == done.result["commit"]
    assert found.back_to_revision != done.result["commit"] and len(found.back_to_revision) == 40
    assert found.notes == []
    assert "-  tag: v4.3.0" in found.git_diff and "+  tag: v4.2.0" in found.git_diff
    deployment, svc = found.resources
    assert deployment.changed and not svc.changed
    image = "registry.meridian.internal/meridian/order"
    removed = [line for line in deployment.diff[2:] if line.startswith("-")]
    added = [line for line in deployment.diff[2:] if line.startswith("+")]
    assert [line.split("image: ")[1] for line in removed] == [f"{image}:v4.3.0"]
    assert [line.split("image: ")[1] for line in added] == [f"{image}:v4.2.0"]
    # normalizedLiveState is compared, so the cluster's own fields are not noise in the diff.
    assert not any("readyReplicas" in line or "resourceVersion" in line
                   for line in deployment.diff)
    assert deployment.diff[0] == \
        "--- Deployment meridian-staging/order-staging (live now)"
    assert ("GET", "/api/v1/applications/order-staging/managed-resources", None) in \
        fake.requests


def test_live_drift_is_part_of_the_diff(deployed):
    fake, _ = deployed
    fake.apps["order-staging"]["live_tag"] = "hotfix-1"  # someone changed it by hand
    deployment = _preview().resources[0]
    assert any(line.endswith(":hotfix-1") and line.startswith("-") for line in deployment.diff)
    assert any(line.endswith(":v4.3.0") for line in deployment.diff) is False


def test_a_desired_state_without_the_current_tag_is_said_not_guessed(deployed):
    fake, _ = deployed
    fake.apps["order-staging"].update(target_tag="v4.2.0", live_tag="v4.2.0")  # not synced yet
    found = _preview()
    assert not any(res.changed for res in found.resources)
    assert found.notes[-1].startswith("No resource ArgoCD wants runs image tag v4.3.0")


def test_no_deploy_to_roll_back_says_so(deployed):
    found = _preview("prod")
    assert found.deploy is None and found.resources == []
    assert "There is no deploy of order to prod" in found.notes[0]


def test_argocd_down_still_shows_the_git_change(deployed):
    fake, _ = deployed
    fake.down = True
    found = _preview()
    assert "+  tag: v4.2.0" in found.git_diff
    assert found.resources == [] and found.notes[-1].startswith("ArgoCD could not be read")


def test_rollback_form_and_fragment_render_the_preview(deployed, worker_app):
    client = PortalClient(worker_app, worker_app.response_class, use_cookies=True)
    _sign_in(client)
    page = client.get("/selfservice/templates/service-rollback").get_data(as_text=True)
    assert 'id="rollback-preview"' in page and 'id="rollback-back-to-tag">v4.2.0' in page
    fragment = client.get("/selfservice/templates/service-rollback/rollback-preview",
                          query_string={"service": "order", "environment": "staging"},
                          headers={"HX-Request": "true"})
    html = fragment.get_data(as_text=True)
    assert fragment.status_code == 200 and "<html" not in html
    assert re.search(r'class="add">\+ +- image: registry\.meridian\.internal/meridian/'
                     r'order:v4\.2\.0</span>', html)
    hostile = client.get("/selfservice/templates/service-rollback/rollback-preview",
                         query_string={"service": "order\x00", "environment": "x" * 5000})
    assert hostile.status_code == 400
    assert client.get("/selfservice/templates/service-deploy/rollback-preview") \
        .status_code == 404
    with db.session_scope() as session:  # a preview is a read: no rollback job was made
        assert session.query(Job).filter(Job.action == "rollback").count() == 0


def _sign_in(client):
    user_id = make_user("developer")
    with db.session_scope() as session:
        email = accounts.get(session=session, user_id=user_id).email
    response = client.post_form("/login", {"email": email,
                                           "password": "correct horse battery staple"})
    assert response.status_code == 303
