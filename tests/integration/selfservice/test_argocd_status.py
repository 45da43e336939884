"""After a deploy's sync the job waits for ArgoCD's verdict on the rollout, records it, and
flags a deploy whose application ends Degraded or never settles; the job page reads the
live Application (sync, health, operation, resources) and polls only while it moves.

ArgoCD is a local HTTP server checking the documented API (tests/fake_argocd.py: paths,
bearer token, query parameters such as refresh=normal; no ArgoCD can run here). git is
real, in a temporary GitOps repo; the job phases run in-process as the Celery task runs
them (`execution.run_job`) on a committed database.
"""
from __future__ import annotations

import pytest

from portal.integrations.argocd import ArgoCDClient, ArgoCDError
from tests.fake_argocd import FakeArgoCD
from tests.integration.selfservice.test_engines import inline, job, submit  # noqa: F401
from tests.integration.selfservice.test_worker import make_user

pytestmark = pytest.mark.integration


@pytest.fixture
def argocd(worker_app, tmp_path, monkeypatch):
    """ArgoCD configured for the app, with fast polling and a short wait."""
    monkeypatch.setitem(worker_app.config, "SELFSERVICE_GITOPS_REPO", str(tmp_path / "gitops"))
    monkeypatch.setitem(worker_app.config, "SELFSERVICE_ARGOCD_POLL_SECONDS", 0.01)
    monkeypatch.setitem(worker_app.config, "SELFSERVICE_ARGOCD_WAIT_SECONDS", 5)
    with FakeArgoCD(apps={"order-staging"}) as fake:
        monkeypatch.setitem(worker_app.config, "ARGOCD_URL", fake.url)
        monkeypatch.setitem(worker_app.config, "ARGOCD_TOKEN", "test-token")
        yield fake


def test_the_client_reads_application_and_resources_with_the_documented_requests():
    with FakeArgoCD(apps={"order-staging"}) as fake:
        client = ArgoCDClient(fake.url, "test-token")
        fake.apps["order-staging"]["health"] = "Degraded"
        app = client.application("order-staging", refresh="normal")
        assert fake.requests[-1] == ("GET", "/api/v1/applications/order-staging?refresh=normal",
                                     None)
        assert (app.name, app.sync_status, app.health_status) == (
            "order-staging", "OutOfSync", "Degraded")
        deployment = app.resources[0]
        assert (deployment.kind, deployment.namespace, deployment.name) == (
            "Deployment", "meridian-staging", "order-staging")
        assert deployment.health_status == "Degraded"
        assert "progress deadline" in deployment.health_message
        diffs = client.managed_resources("order-staging")
        assert fake.requests[-1][1] == "/api/v1/applications/order-staging/managed-resources"
        assert diffs[0].target_state["spec"]["template"]["spec"]["containers"][0]["image"] \
            .endswith(":v4.2.0")
        assert "status" in diffs[0].live_state and "status" not in diffs[0].normalized_live_state
        with pytest.raises(ValueError):
            client.application("order-staging", refresh="yes")
        with pytest.raises(ArgoCDError, match="401"):
            ArgoCDClient(fake.url, "wrong").managed_resources("order-staging")


def test_the_fake_refuses_undocumented_query_parameters():
    with FakeArgoCD(apps={"order-staging"}) as fake:
        client = ArgoCDClient(fake.url, "test-token")
        with pytest.raises(ArgoCDError, match="400"):
            client._call("GET", "/api/v1/applications/order-staging", params={"refresh": "1"})
        with pytest.raises(ArgoCDError, match="400"):
            client._call("GET", "/api/v1/applications/order-staging",
                         params={"watch": "true"})


def test_a_healthy_rollout_is_waited_for_and_recorded(worker_app, inline, argocd):  # noqa: F811
    argocd.rollout["order-staging"] = ["Progressing", "Progressing", "Healthy"]
    deploy_id = submit(make_user("developer"), "service-deploy", service="order",
                       environment="staging", image_tag="v4.3.0")
    inline()
    done = job(deploy_id)
    assert done.status == "succeeded", done.status_reason
    rollout = done.result["rollout"]
    assert (rollout["outcome"], rollout["health"], rollout["sync"]) == (
        "healthy", "Healthy", "Synced")
    assert rollout["revision"] == done.result["commit"]
    assert not done.flagged and done.status_reason is None
    # Synced first, then three reads with refresh=normal until it was Healthy.
    paths = [path for method, path, _ in argocd.requests]
    sync_at = paths.index("/api/v1/applications/order-staging/sync")
    assert paths[sync_at + 1:] == ["/api/v1/applications/order-staging?refresh=normal"] * 3


def test_a_degraded_rollout_flags_the_job_and_names_the_resource(worker_app, inline,  # noqa: F811
                                                                 argocd):
    argocd.rollout["order-staging"] = ["Progressing", "Degraded"]
    deploy_id = submit(make_user("developer"), "service-deploy", service="order",
                       environment="staging", image_tag="v4.3.1")
    inline()
    done = job(deploy_id)
    assert done.status == "succeeded"  # the commit landed and was synced
    assert done.flagged and done.rollout_outcome == "degraded"
    assert done.status_reason == (
        "Deployed, but ArgoCD reports the application Degraded: Deployment "
        "meridian-staging/order-staging: Degraded (Deployment \"order-staging\" exceeded its "
        "progress deadline).")


def test_a_rollout_that_never_settles_ends_flagged_as_unsettled(worker_app, inline, argocd,  # noqa: F811
                                                                monkeypatch):
    monkeypatch.setitem(worker_app.config, "SELFSERVICE_ARGOCD_WAIT_SECONDS", 0.2)
    argocd.rollout["order-staging"] = ["Progressing"] * 100_000
    deploy_id = submit(make_user("developer"), "service-deploy", service="order",
                       environment="staging", image_tag="v4.3.2")
    inline()
    done = job(deploy_id)
    assert done.status == "succeeded" and done.rollout_outcome == "unsettled"
    assert "still reported it Progressing when the wait ran out" in done.status_reason


def test_argocd_down_after_the_sync_is_flagged_unknown(worker_app, inline, argocd,  # noqa: F811
                                                       monkeypatch):
    sync_once = argocd._sync

    def sync_then_go_down(name, body):
        sync_once(name, body)
        argocd.down = True
    monkeypatch.setattr(argocd, "_sync", sync_then_go_down)
    monkeypatch.setattr(ArgoCDClient, "__init__", _fast_client(ArgoCDClient.__init__))
    deploy_id = submit(make_user("developer"), "service-deploy", service="order",
                       environment="staging", image_tag="v4.3.3")
    inline()
    done = job(deploy_id)
    assert done.status == "succeeded" and done.rollout_outcome == "unknown"
    assert "health is unknown" in done.status_reason


def _fast_client(init):
    def fast(self, base_url, token, **kwargs):
        init(self, base_url, token, **{**kwargs, "backoff": 0})
    return fast
