"""Deploy, rollback and edge patching through the portal's job phases, run in-process
(`execution.run_job`, what the Celery task calls) on a committed database.

ArgoCD is a local HTTP server checking the documented API (tests/fake_argocd.py; no
ArgoCD can run here); git and ansible-runner are real, against a temporary GitOps repo
and localhost with connection local.
"""
from __future__ import annotations

import sys
import uuid

import pytest

from portal.auth import service as accounts
from portal.extensions import db
from portal.selfservice import dispatch, engines, execution, service
from portal.selfservice.models import Job
from provisioning import ansible
from tests.fake_argocd import FakeArgoCD
from tests.integration.selfservice.test_worker import make_user

pytestmark = pytest.mark.integration


@pytest.fixture
def inline(monkeypatch):
    """Run sent jobs right here, one phase at a time, instead of through the broker."""
    queue: list[str] = []
    monkeypatch.setattr(dispatch, "send", queue.append)

    def drain():
        while queue:
            execution.run_job(queue.pop(0), worker="inline-test")
    return drain


def submit(user_id, template, **raw):
    with db.session_scope() as session:
        user = accounts.get(session=session, user_id=user_id)
        return str(service.request_job(session=session, template_slug=template, raw=raw,
                                       requester=user).id)


def job(job_id) -> Job:
    with db.session_scope() as session:
        return session.get(Job, uuid.UUID(job_id))


def approve(job_id, manager_id):
    with db.session_scope() as session:
        service.approve(session=session, job=session.get(Job, uuid.UUID(job_id)),
                        approver=accounts.get(session=session, user_id=manager_id))


def test_staging_deploy_syncs_at_once_then_rollback_reverts(worker_app, inline, tmp_path, monkeypatch):
    monkeypatch.setitem(worker_app.config, "SELFSERVICE_GITOPS_REPO", str(tmp_path / "gitops"))
    dev = make_user("developer")
    with FakeArgoCD(apps={"order-staging"}) as argocd:
        monkeypatch.setitem(worker_app.config, "ARGOCD_URL", argocd.url)
        monkeypatch.setitem(worker_app.config, "ARGOCD_TOKEN", "test-token")
        deploy_id = submit(dev, "service-deploy", service="order", environment="staging",
                           image_tag="v4.3.0")
        inline()
        deployed = job(deploy_id)
        assert deployed.status == "succeeded", deployed.status_reason
        assert (deployed.plan["from"], deployed.plan["to"]) == ("v4.2.0", "v4.3.0")
        assert deployed.result["sync"] == "Synced"
        assert argocd.apps["order-staging"]["revision"] == deployed.result["commit"]

        rollback_id = submit(dev, "service-rollback", service="order", environment="staging")
        inline()
        rolled = job(rollback_id)
        assert rolled.status == "succeeded", rolled.status_reason
        assert (rolled.result["previous_tag"], rolled.result["tag"]) == ("v4.3.0", "v4.2.0")
        assert rolled.params["reverts_commit"] == deployed.result["commit"]
        assert argocd.apps["order-staging"]["revision"] == rolled.result["commit"]


def test_prod_deploy_waits_for_a_managers_approval(worker_app, inline, tmp_path, monkeypatch):
    monkeypatch.setitem(worker_app.config, "SELFSERVICE_GITOPS_REPO", str(tmp_path / "gitops"))
    dev, manager = make_user("developer"), make_user("manager")
    deploy_id = submit(dev, "service-deploy", service="order", environment="prod",
                       image_tag="v4.2.5")
    inline()
    assert job(deploy_id).status == "awaiting_approval"
    assert (tmp_path / "gitops" / "envs/prod/order/values.yaml").read_text().count("v4.2.0")
    approve(deploy_id, manager)
    inline()
    done = job(deploy_id)
    assert done.status == "succeeded", done.status_reason
    assert "v4.2.5" in (tmp_path / "gitops" / "envs/prod/order/values.yaml").read_text()
    assert done.result["sync"] == "left to ArgoCD polling"  # no ARGOCD_URL configured


def test_edge_patching_checks_first_then_applies_after_approval(worker_app, inline, tmp_path, monkeypatch):
    inventory = tmp_path / "edge.yml"
    inventory.write_text(
        "all:\n  vars:\n    edge_manage_packages: false\n"
        f"    edge_root: {tmp_path}/root/\n"
        "  children:\n    edge:\n      children:\n        edge_local:\n          hosts:\n"
        f"            localhost: {{ansible_connection: local, ansible_python_interpreter: {sys.executable}}}\n")
    monkeypatch.setitem(worker_app.config, "SELFSERVICE_ANSIBLE_INVENTORY", str(inventory))
    dev, manager = make_user("developer"), make_user("manager")
    patch_id = submit(dev, "edge-patching", group="edge_local", playbook="bootstrap")
    inline()
    checked = job(patch_id)
    assert checked.status == "awaiting_approval", checked.status_reason
    assert checked.plan["check"] and checked.plan["hosts"]["localhost"]["changed"] == 3
    assert not (tmp_path / "root").exists()  # check mode changed nothing
    approve(patch_id, manager)
    inline()
    done = job(patch_id)
    assert done.status == "succeeded", done.status_reason
    assert done.result["hosts"]["localhost"]["failed"] == 0
    assert (tmp_path / "root" / "etc" / "meridian" / "node.yml").exists()


def test_bundled_inventory_gets_a_local_site_that_really_runs_in_check_mode(
        worker_app, inline, tmp_path, monkeypatch):
    """The demo's fleet (10.40.x) is unreachable here; the `local` site is this machine."""
    monkeypatch.setitem(worker_app.config, "SELFSERVICE_ANSIBLE_INVENTORY",
                        str(engines.BUNDLED_INVENTORY))
    monkeypatch.setitem(worker_app.config, "SELFSERVICE_WORK_DIR", str(tmp_path / "work"))
    groups = ansible.inventory_groups(engines.ansible_inventory())
    assert groups["local"] == 1 and groups["edge"] == 12  # the fleet stays 12 nodes
    dev, manager = make_user("developer"), make_user("manager")
    local_root = tmp_path / "work" / "local-site"
    for playbook in ("upgrade", "bootstrap"):
        patch_id = submit(dev, "edge-patching", group="local", playbook=playbook)
        inline()
        checked = job(patch_id)
        assert checked.status == "awaiting_approval", checked.status_reason
        assert checked.plan["check"] and checked.plan["hosts"]["localhost"]["failed"] == 0
        assert not local_root.exists()  # check mode changed nothing
    approve(patch_id, manager)  # bootstrap for real
    inline()
    done = job(patch_id)
    assert done.status == "succeeded", done.status_reason
    assert (local_root / "etc" / "meridian" / "node.yml").exists()  # under the work dir


def test_a_configured_inventory_is_used_as_it_is(worker_app, tmp_path, monkeypatch):
    inventory = tmp_path / "fleet.yml"
    inventory.write_text("all:\n  children:\n    edge:\n      hosts:\n        n1: {}\n")
    monkeypatch.setitem(worker_app.config, "SELFSERVICE_ANSIBLE_INVENTORY", str(inventory))
    assert engines.ansible_inventory() == str(inventory)
    assert "local" not in ansible.inventory_groups(engines.ansible_inventory())
