"""GitOps deploy and rollback in a real temporary git repository laid out like
infra/argocd, synced through the ArgoCD client against a local HTTP server that checks
ArgoCD's documented requests (tests/fake_argocd.py; no ArgoCD can run here)."""
import shutil
import subprocess

import pytest

from portal.config import PROJECT_ROOT
from portal.integrations.argocd import ArgoCDClient
from provisioning.argocd import Author, GitOpsRepo, sync
from provisioning.errors import RunFailed
from tests.fake_argocd import FakeArgoCD

pytestmark = pytest.mark.integration
DEV = Author("Dana Developer", "dev@meridian.example")


@pytest.fixture
def repo(tmp_path):
    path = tmp_path / "gitops"
    shutil.copytree(PROJECT_ROOT / "infra" / "argocd", path)
    for args in (["init", "-q", "-b", "main"], ["add", "."],
                 ["-c", "user.name=t", "-c", "user.email=t@x", "commit", "-qm", "initial"]):
        subprocess.run(["git", "-C", str(path), *args], check=True)
    lines = []
    return GitOpsRepo(path, sink=lines.append), lines


def test_deploy_commits_as_the_requester_and_syncs(repo):
    gitops, lines = repo
    commit = gitops.bump_image_tag("order", "prod", "v4.2.1", author=DEV,
                                   message="deploy order v4.2.1 to prod")
    assert (commit.previous_tag, commit.tag) == ("v4.2.0", "v4.2.1")
    assert gitops.current_tag("order", "prod") == "v4.2.1"
    assert gitops.commit_info(commit.sha) == (
        f"{commit.sha} Dana Developer <dev@meridian.example> deploy order v4.2.1 to prod")
    with FakeArgoCD(apps={"order-prod"}) as argocd:
        status = sync(ArgoCDClient(argocd.url, "test-token"), service="order",
                      environment="prod", revision=commit.sha, sink=lines.append)
        assert status.revision == commit.sha
        assert argocd.requests[0][1] == "/api/v1/applications/order-prod/sync"


def test_rollback_reverts_the_deploy_commit(repo):
    gitops, lines = repo
    deploy = gitops.bump_image_tag("search", "staging", "v3.0.0", author=DEV, message="deploy")
    back = gitops.revert(deploy.sha, author=DEV, message="rollback search", service="search",
                         environment="staging")
    assert (back.previous_tag, back.tag) == ("v3.0.0", "v2.9.1")
    assert gitops.current_tag("search", "staging") == "v2.9.1"
    assert back.sha != deploy.sha


def test_same_tag_and_bad_input_are_refused(repo):
    gitops, _ = repo
    with pytest.raises(RunFailed, match="already runs"):
        gitops.bump_image_tag("order", "prod", "v4.2.0", author=DEV, message="m")
    with pytest.raises(ValueError):
        gitops.bump_image_tag("order", "prod", "v1;rm -rf /", author=DEV, message="m")
    with pytest.raises(ValueError):
        gitops.values_path("../order", "prod")
    with pytest.raises(RunFailed, match="not in the GitOps repo"):
        gitops.current_tag("nosuch", "prod")


def test_without_argocd_the_sync_is_logged_as_pending_poll(repo):
    _, lines = repo
    assert sync(None, service="order", environment="staging", revision="a" * 40,
                sink=lines.append) is None
    assert "next poll" in lines[-1]
