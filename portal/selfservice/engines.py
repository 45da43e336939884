"""The provisioning engine behind each template, run for one phase of one job.

Inputs are a plain `JobSpec` snapshot (no ORM objects cross into a long run); the plan
phase returns what the gate shows (a Terraform plan summary, an Ansible check run, the
tag change), the apply phase returns the outcome (outputs, per-host results, commit).
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import yaml
from flask import current_app

from portal.config import PROJECT_ROOT
from portal.integrations import rego
from portal.integrations.argocd import ArgoCDClient
from portal.selfservice import deploy_status, plan_diff, plan_policy
from provisioning import argocd as gitops
from provisioning.ansible import AnsibleRunner
from provisioning.errors import RunFailed
from provisioning.terraform_cli import make_runner

Sink = Callable[[str], None]
BUNDLED_INVENTORY = PROJECT_ROOT / "infra" / "ansible" / "inventory" / "edge.yml"
LOCAL_GROUP = "local"


@dataclass(frozen=True)
class JobSpec:
    id: str
    engine: str
    action: str
    tier: str
    phase: str
    params: dict
    tags: dict
    timeout: int
    requester_name: str
    requester_email: str
    approver_email: str | None


def run_phase(spec: JobSpec, *, sink: Sink, on_runner: Callable[[object], None]) -> dict:
    """Run the job's current phase; returns its plan or its result."""
    return {"terraform": _terraform, "ansible": _ansible, "argocd": _argocd}[spec.engine](
        spec, sink, on_runner)


def work_dir() -> Path:
    config = current_app.config
    return Path(config["SELFSERVICE_WORK_DIR"] or Path(config["INSTANCE_DIR"]) / "selfservice")


def ansible_inventory() -> str:
    """The inventory patching runs against (and whose groups the form offers).

    The bundled inventory is Meridian's edge fleet, whose 10.x addresses exist nowhere here, so
    with it the portal adds a `local` site: this worker itself over connection local, with
    no package changes and every file under the work dir, so a patch really runs in the
    demo. A configured inventory (production) is used exactly as it is.
    """
    configured = Path(current_app.config["SELFSERVICE_ANSIBLE_INVENTORY"])
    if configured.resolve() != BUNDLED_INVENTORY.resolve():
        return str(configured)
    data = yaml.safe_load(BUNDLED_INVENTORY.read_text())
    root = work_dir() / "local-site"
    # Outside the `edge` group: a fleet-wide run never touches the worker's own host.
    data["all"].setdefault("children", {})[LOCAL_GROUP] = {"hosts": {"localhost": {
        "ansible_connection": "local", "ansible_python_interpreter": sys.executable,
        "edge_manage_packages": False, "edge_root": f"{root}/"}}}
    return str(_write_if_changed(work_dir() / "ansible" / "inventory-with-local.yml",
                                 yaml.safe_dump(data, sort_keys=False)))


def _write_if_changed(path: Path, text: str) -> Path:
    if path.exists() and path.read_text() == text:
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    # Web and worker processes may write it at once: replace atomically, never half-written.
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    os.replace(tmp, path)
    return path


def _terraform(spec: JobSpec, sink: Sink, on_runner) -> dict:
    config = current_app.config
    runner = make_runner(config["SELFSERVICE_TERRAFORM_ENGINE"],
                         module_dir=config["SELFSERVICE_TF_MODULE"],
                         work_root=work_dir() / "terraform", environment=spec.params["name"],
                         sink=sink, backend_config=config["SELFSERVICE_TF_BACKEND"],
                         timeout=spec.timeout)
    on_runner(runner)
    if spec.phase == "plan":
        variables = {"name": spec.params["name"], "environment": spec.tier, "tags": spec.tags,
                     "replicas": spec.params.get("replicas", 1),
                     "apply_delay_seconds": config["SELFSERVICE_SANDBOX_APPLY_DELAY"]}
        plan = runner.plan(variables=variables, destroy=spec.action == "destroy").as_dict()
        shown = runner.show_plan()
        plan["policies"] = _plan_policies(shown, sink)
        plan["review"] = plan_diff.review(shown)
        return plan
    # Checked again on the very plan file being applied: a deny never reaches apply.
    denials = plan_policy.plan_denials(_plan_policies(runner.show_plan(), sink))
    if denials:
        raise RunFailed("apply refused by plan policy: " + "; ".join(denials))
    result = runner.apply()
    return {"add": result.add, "change": result.change, "destroy": result.destroy,
            "outputs": result.outputs}


def _plan_policies(shown: dict, sink: Sink) -> list[dict]:
    try:
        results = plan_policy.plan_policy_results(shown)
    except rego.RegoError as exc:
        raise RunFailed(f"the plan policies could not be evaluated: {exc}") from exc
    for result in results:
        verdict = f"{len(result['deny'])} denied" if result["deny"] else "passed"
        sink(f"policy {result['title']}: {verdict}")
    return results


def _ansible(spec: JobSpec, sink: Sink, on_runner) -> dict:
    runner = AnsibleRunner(project_dir=PROJECT_ROOT / "infra" / "ansible",
                           inventory=ansible_inventory(),
                           sink=sink, timeout=spec.timeout,
                           extravars={"portal_job_id": spec.id})
    on_runner(runner)
    result = runner.run(spec.params["playbook"], group=spec.params["group"],
                        check=spec.phase == "plan")
    return {"check": result.check, "hosts": result.hosts}


def gitops_path() -> Path:
    """Where the GitOps clone lives (it may not exist before the first deploy)."""
    config = current_app.config
    return Path(config["SELFSERVICE_GITOPS_REPO"] or Path(config["INSTANCE_DIR"]) / "gitops")


def gitops_repo(sink: Sink) -> gitops.GitOpsRepo:
    """The GitOps clone; the default is a local repo created from infra/argocd."""
    config = current_app.config
    path = gitops_path()
    if not (path / ".git").exists():
        shutil.copytree(PROJECT_ROOT / "infra" / "argocd", path, dirs_exist_ok=True)
        for args in (["init", "-q", "-b", "main"], ["add", "."],
                     ["-c", "user.name=Meridian Portal", "-c", "user.email=portal@meridian.io",
                      "commit", "-qm", "GitOps repo from infra/argocd"]):
            subprocess.run(["git", "-C", str(path), *args], check=True, capture_output=True)
        sink(f"created the local GitOps repo at {path}")
    return gitops.GitOpsRepo(path, sink=sink, push=config["SELFSERVICE_GITOPS_PUSH"])


def argocd_client() -> ArgoCDClient | None:
    """The configured ArgoCD client, or None when ARGOCD_URL is unset."""
    return deploy_status.client()


def _argocd(spec: JobSpec, sink: Sink, on_runner) -> dict:
    repo = gitops_repo(sink)
    service, env = spec.params["service"], spec.params["environment"]
    current = repo.current_tag(service, env)
    if spec.phase == "plan":
        plan = {"service": service, "environment": env, "from": current,
                "file": str(repo.values_path(service, env).relative_to(repo.path))}
        if spec.action == "deploy":
            if current == spec.params["image_tag"]:
                raise RunFailed(f"{service} already runs {current} in {env}")
            plan["to"] = spec.params["image_tag"]
        else:
            plan["revert"] = spec.params["reverts_commit"]
        sink(f"{plan['file']}: image.tag {current} -> {plan.get('to', 'revert ' + plan.get('revert', '')[:12])}")
        return plan
    author = gitops.Author(spec.requester_name, spec.requester_email)
    trailer = f"\n\nPortal job {spec.id}" + (
        f", approved by {spec.approver_email}" if spec.approver_email else "")
    if spec.action == "deploy":
        commit = repo.bump_image_tag(service, env, spec.params["image_tag"], author=author,
                                     message=f"deploy {service} {spec.params['image_tag']} to {env}{trailer}")
    else:
        commit = repo.revert(spec.params["reverts_commit"], author=author, service=service,
                             environment=env, message=f"rollback {service} in {env}{trailer}")
    status = gitops.sync(argocd_client(), service=service, environment=env,
                         revision=commit.sha, sink=sink)
    result = {"commit": commit.sha, "previous_tag": commit.previous_tag, "tag": commit.tag,
              "sync": getattr(status, "sync_status", "left to ArgoCD polling")}
    if status is not None:
        result["rollout"] = deploy_status.await_rollout(
            service=service, environment=env, revision=commit.sha, sink=sink,
            on_runner=on_runner)
    return result
