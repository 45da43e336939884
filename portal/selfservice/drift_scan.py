"""Finding drift: a Terraform plan of every active environment against its recorded request,
and Ansible check mode (`--check --diff`) of the drift playbook on every edge site.

One scan runs at a time across all workers and beats: it holds the self-service advisory
lock of the `drift-scan` target for its whole run, and each environment or site is scanned
under the same target lock its jobs take, so a scan never plans over a running apply. An
environment with a change in flight (even one only waiting at its gate, whose saved plan
sits in the working dir) is skipped until that change is done. Nothing is ever applied:
a drift plan's saved file is removed at once.
"""
from __future__ import annotations

import difflib
import logging
from pathlib import Path

import yaml
from flask import current_app

from portal import jobs
from portal.config import PROJECT_ROOT
from portal.extensions import db
from portal.selfservice import drift, engines, execution, plan_diff
from portal.selfservice.drift import Finding
from provisioning.ansible import AnsibleRunner
from provisioning.errors import RunFailed
from provisioning.terraform_cli import make_runner

log = logging.getLogger(__name__)
SCAN_TARGET = "drift-scan"
MAX_DIFF = 4000  # characters of one task's diff kept on its item


def scan_all() -> dict:
    """Scan every environment and site once; 'skipped' when another scan holds the lock."""
    with jobs.lock_connection(db.engine) as conn:
        if not execution.try_lock(conn, SCAN_TARGET):
            return {"skipped": "another drift scan is running"}
        try:
            return {"terraform": scan_environments(conn), "ansible": scan_sites(conn)}
        finally:
            execution.unlock(conn, SCAN_TARGET)


def scan_environments(conn) -> dict[str, str]:
    """Plan each active environment; file what differs from its recorded request."""
    with db.session_scope() as session:
        envs = [(e.id, e.name, e.tier, dict(e.tags), dict(e.variables))
                for e in drift.scannable_environments(session=session)]
    return {name: _locked(conn, f"terraform:{name}", "terraform", name,
                          lambda n=name, t=tier, g=tags, v=variables: _plan_findings(n, t, g, v),
                          team_slug=tags.get("team"), environment_id=env_id)
            for env_id, name, tier, tags, variables in envs}


def scan_sites(conn) -> dict[str, str]:
    """Run the drift playbook in check mode on each site; file each task it would change."""
    inventory = engines.ansible_inventory()
    playbook = current_app.config["SELFSERVICE_DRIFT_PLAYBOOK"]
    team = current_app.config["SELFSERVICE_DRIFT_EDGE_TEAM"]
    return {site: _locked(conn, "ansible:edge", "ansible", site,
                          lambda site=site: _check_findings(inventory, playbook, site),
                          team_slug=team)
            for site in sites(inventory)}


def sites(inventory: str) -> list[str]:
    """The sites to check: the `edge` group's child groups of a configured inventory.

    With the bundled inventory only the worker's own `local` site: the bundled fleet's
    addresses are Meridian's, reachable from nowhere here, and are never contacted.
    """
    if Path(current_app.config["SELFSERVICE_ANSIBLE_INVENTORY"]).resolve() == \
            engines.BUNDLED_INVENTORY.resolve():
        return [engines.LOCAL_GROUP]
    data = yaml.safe_load(Path(inventory).read_text()) or {}
    edge = ((data.get("all") or {}).get("children") or {}).get("edge") or {}
    return sorted((edge.get("children") or {}).keys()) or (["edge"] if edge else [])


def _locked(conn, target: str, source: str, scope: str, find, *, team_slug: str | None,
            environment_id: int | None = None) -> str:
    if not execution.try_lock(conn, target):
        return _note(source, scope, "skipped", "a job on it is running")
    try:
        with db.session_scope() as session:
            if source == "terraform" and drift.change_in_flight(session=session, target=target):
                return _note(source, scope, "skipped", "a change of it is in flight")
        try:
            findings = find()
        except (RunFailed, ValueError) as exc:
            log.warning("drift scan of %s %s failed: %s", source, scope, exc)
            return _note(source, scope, "failed", str(exc))
        with db.session_scope() as session:
            counts = drift.record_scan(
                session=session, source=source, scope=scope, findings=findings,
                team=drift.team_id(session=session, slug=team_slug),
                environment_id=environment_id)
        return f"{len(findings)} found ({counts['new']} new, {counts['resolved']} resolved)"
    finally:
        execution.unlock(conn, target)


def _note(source: str, scope: str, outcome: str, error: str) -> str:
    with db.session_scope() as session:
        drift.note_scan(session=session, source=source, scope=scope, outcome=outcome,
                        error=error)
    return f"{outcome}: {error}"


def _plan_findings(name: str, tier: str, tags: dict, variables: dict) -> list[Finding]:
    config = current_app.config
    runner = make_runner(config["SELFSERVICE_TERRAFORM_ENGINE"],
                         module_dir=config["SELFSERVICE_TF_MODULE"],
                         work_root=engines.work_dir() / "terraform", environment=name,
                         sink=lambda line: None, backend_config=config["SELFSERVICE_TF_BACKEND"],
                         timeout=config["SELFSERVICE_JOB_TIMEOUT"])
    try:
        runner.plan(variables={"name": name, "environment": tier, "tags": tags,
                               "replicas": variables.get("replicas", 1),
                               "apply_delay_seconds": config["SELFSERVICE_SANDBOX_APPLY_DELAY"]})
        review = plan_diff.review(runner.show_plan(), required_tags=())
    finally:
        runner.plan_path.unlink(missing_ok=True)
    found = [Finding(r["address"], _plan_summary(r["action"], r["attributes"]),
                     {"action": r["action"], "attributes": r["attributes"]})
             for r in review["resources"]]
    found += [Finding(r["address"], "changed outside Terraform: "
                      + _plan_summary(r["action"], r["attributes"]),
                      {"action": "changed outside Terraform", "attributes": r["attributes"]})
              for r in review["drift"] if r["address"] not in {f.subject for f in found}]
    return found


def _plan_summary(action: str, attributes: list[dict]) -> str:
    verbs = {"create": "missing: the plan would create it",
             "delete": "not in the code: the plan would delete it",
             "replace": "the plan would replace it", "update": "the plan would update"}
    # Values known only after apply follow from the others: the summary names the causes.
    causes = [a["path"] for a in attributes if a["new"] != plan_diff.UNKNOWN] or [
        a["path"] for a in attributes]
    paths = ", ".join(causes[:4])
    more = f" and {len(causes) - 4} more" if len(causes) > 4 else ""
    text = verbs.get(action, action)
    return f"{text} {paths}{more}" if action == "update" else text


class _DriftCheck(AnsibleRunner):
    """Check mode that also keeps each changed task's host, name and diff."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.changed: list[Finding] = []

    def _on_event(self, event: dict) -> bool:
        data = event.get("event_data") or {}
        result = data.get("res") or {}
        if event.get("event") == "runner_on_ok" and result.get("changed"):
            diff = _diff_text(result.get("diff"))
            self.changed.append(Finding(
                f"{data.get('host')}: {data.get('task')}",
                f"would change ({data.get('task_action') or 'task'})",
                {"host": data.get("host"), "task": data.get("task"), "diff": diff}))
        return super()._on_event(event)


def _check_findings(inventory: str, playbook: str, site: str) -> list[Finding]:
    runner = _DriftCheck(project_dir=PROJECT_ROOT / "infra" / "ansible", inventory=inventory,
                         sink=lambda line: None,
                         timeout=current_app.config["SELFSERVICE_JOB_TIMEOUT"])
    runner.run(playbook, group=site, check=True)
    return runner.changed


def _diff_text(diff) -> str:
    """Ansible's --diff result (one dict or a list) as unified diff text, bounded."""
    parts = diff if isinstance(diff, list) else [diff] if isinstance(diff, dict) else []
    out = []
    for part in parts:
        if part.get("prepared"):
            out.append(str(part["prepared"]))
            continue
        before, after = part.get("before", ""), part.get("after", "")
        if isinstance(before, dict) or isinstance(after, dict):
            before, after = yaml.safe_dump(before or {}), yaml.safe_dump(after or {})
        out.extend(difflib.unified_diff(
            str(before).splitlines(), str(after).splitlines(),
            part.get("before_header", "before"), part.get("after_header", "after"),
            lineterm=""))
    text = "\n".join(out)
    return text if len(text) <= MAX_DIFF else text[:MAX_DIFF] + "\n…"
