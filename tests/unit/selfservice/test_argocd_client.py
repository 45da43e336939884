"""The ArgoCD client against a local HTTP server that checks ArgoCD's documented paths,
bearer token and ApplicationSyncRequest body (tests/fake_argocd.py; no ArgoCD runs here)."""
import pytest

from portal.integrations.argocd import ArgoCDClient, ArgoCDError, ArgoCDUnavailable
from tests.fake_argocd import FakeArgoCD


@pytest.fixture
def argocd():
    with FakeArgoCD(apps={"order-prod"}) as fake:
        yield fake


def test_sync_posts_the_documented_request_and_reads_status(argocd):
    client = ArgoCDClient(argocd.url, "test-token")
    status = client.sync("order-prod", revision="abc1234")
    assert argocd.requests == [("POST", "/api/v1/applications/order-prod/sync",
                                {"prune": False, "dryRun": False, "revision": "abc1234"})]
    assert (status.name, status.sync_status, status.revision) == ("order-prod", "Synced", "abc1234")
    got = client.get("order-prod")
    assert argocd.requests[-1] == ("GET", "/api/v1/applications/order-prod", None)
    assert got.health_status == "Healthy"


def test_wrong_token_and_unknown_app_are_refusals(argocd):
    with pytest.raises(ArgoCDError, match="401"):
        ArgoCDClient(argocd.url, "wrong").get("order-prod")
    with pytest.raises(ArgoCDError, match="not found"):
        ArgoCDClient(argocd.url, "test-token").sync("nope-prod")


def test_down_server_raises_unavailable_after_bounded_retries(argocd):
    argocd.down = True
    client = ArgoCDClient(argocd.url, "test-token", retries=2, backoff=0)
    with pytest.raises(ArgoCDUnavailable):
        client.get("order-prod")
    with pytest.raises(ArgoCDUnavailable):
        ArgoCDClient("http://127.0.0.1:9", "t", retries=1, backoff=0, timeout=1).get("x")
