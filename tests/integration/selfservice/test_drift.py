"""Drift detection with real Terraform and real Ansible check mode, on a committed database.

An environment is applied as the portal would, then changed behind the portal's back (a
hand-run `terraform apply` with other values, a site left unconfigured); the scheduled
scan files what differs in the inbox, finds it again without duplicates, and marks it
resolved once a remediation request, run through the normal job path, has put it back.
"""
from __future__ import annotations

import sys
import uuid

import pytest
from flask import current_app
from sqlalchemy import select, text

from portal.auth import service as accounts
from portal.auth.models import AuditEntry
from portal.catalog import service as catalog
from portal.extensions import db
from portal.selfservice import drift, drift_scan, engines, execution, service, tasks
from portal.selfservice.models import DriftItem, DriftScan, Environment, Job
from provisioning.terraform_cli import make_runner
from tests.conftest import TEST_PASSWORD, PortalClient
from tests.integration.selfservice.test_engines import inline, job  # noqa: F401
from tests.integration.selfservice.test_worker import make_user

pytestmark = pytest.mark.integration
TAGS = {"owner": "dev@meridian.example", "team": "platform", "cost-center": "cc-1001",
        "environment": "dev"}


@pytest.fixture
def drift_env(worker_app, tmp_path, monkeypatch):
    """A work dir of our own and an inventory with no edge sites (Terraform only)."""
    monkeypatch.setitem(worker_app.config, "SELFSERVICE_WORK_DIR", str(tmp_path / "work"))
    empty = tmp_path / "empty.yml"
    empty.write_text("all:\n  children: {}\n")
    monkeypatch.setitem(worker_app.config, "SELFSERVICE_ANSIBLE_INVENTORY", str(empty))
    return worker_app


def apply_by_hand(name: str, **variables) -> None:
    """`terraform apply` in the environment's working dir, as someone outside the portal."""
    runner = make_runner(current_app.config["SELFSERVICE_TERRAFORM_ENGINE"],
                         module_dir=current_app.config["SELFSERVICE_TF_MODULE"],
                         work_root=engines.work_dir() / "terraform", environment=name,
                         sink=lambda line: None)
    runner.plan(variables={"name": name, "environment": "dev", "tags": TAGS, "replicas": 2,
                           **variables})
    runner.apply()


def active_environment(owner_id: int, name: str) -> int:
    with db.session_scope() as session:
        owner = accounts.get(session=session, user_id=owner_id)
        env = Environment(name=name, template="dev-environment", tier="dev", owner=owner,
                          tags=TAGS, variables={"replicas": 2}, status="active")
        session.add(env)
        session.flush()
        return env.id


def items(scope: str) -> dict[str, DriftItem]:
    with db.session_scope() as session:
        rows = session.scalars(select(DriftItem).where(DriftItem.scope == scope)).all()
        return {r.subject: r for r in rows}


def login(app, user_id) -> PortalClient:
    app.test_client_class = PortalClient
    client = app.test_client()
    with db.session_scope() as session:
        email = accounts.get(session=session, user_id=user_id).email
    assert client.post_form("/login", {"email": email, "password": TEST_PASSWORD}
                            ).status_code == 303
    return client


def test_terraform_drift_is_filed_once_updated_and_resolved_by_a_remediation(
        drift_env, inline):  # noqa: F811
    with db.session_scope() as session:
        catalog.upsert_team(session=session, slug="platform", name="Platform Engineering",
                            chat_channel="#platform")
    dev = make_user("developer")
    env_id = active_environment(dev, "platform-drifty")
    apply_by_hand("platform-drifty")  # what the portal applied

    assert tasks.scan_drift()["terraform"]["platform-drifty"].startswith("0 found")
    assert items("platform-drifty") == {}

    apply_by_hand("platform-drifty", replicas=3, tags={**TAGS, "cost-center": "cc-9999"})
    result = tasks.scan_drift()["terraform"]["platform-drifty"]
    found = items("platform-drifty")
    assert result.startswith(f"{len(found)} found ({len(found)} new")
    extra = found["terraform_data.app[2]"]
    assert (extra.state, extra.details["action"]) == ("new", "delete")
    assert extra.summary == "not in the code: the plan would delete it"
    network = found["terraform_data.network"]
    changed = {a["path"]: (a["old"], a["new"]) for a in network.details["attributes"]}
    assert changed["input.tags.cost-center"] == ('"cc-9999"', '"cc-1001"')
    assert network.team.slug == "platform" and network.environment_id == env_id

    # Found again: the same rows, updated; an accepted item stays accepted.
    dev_client = login(drift_env, dev)
    response = dev_client.post_form(f"/selfservice/drift/{network.id}/accept")
    assert response.status_code == 303
    tasks.scan_drift()
    again = items("platform-drifty")
    assert set(again) == set(found)
    assert again["terraform_data.app[2]"].first_detected_at == extra.first_detected_at
    assert again["terraform_data.app[2]"].last_detected_at > extra.last_detected_at
    assert again["terraform_data.network"].state == "accepted"

    # Remediate: a request through the normal job path, planned and confirmed.
    response = dev_client.post_form(f"/selfservice/drift/{extra.id}/remediate")
    assert response.status_code == 303
    fixing = items("platform-drifty")
    job_id = str(fixing["terraform_data.app[2]"].remediation_job_id)
    assert response.headers["Location"].endswith(f"/selfservice/jobs/{job_id}")
    assert {i.state for i in fixing.values()} == {"remediating"}
    with db.session_scope() as session:
        audit = session.scalars(select(AuditEntry).where(
            AuditEntry.action == "selfservice.drift.remediate")).one()
        assert audit.details["from"] == "new" and audit.details["to"] == "remediating"
    inline()
    planned = job(job_id)
    assert (planned.status, planned.action, planned.gate) == ("awaiting_approval", "remediate",
                                                              "confirm")
    review = {r["address"]: r["action"] for r in planned.plan["review"]["resources"]}
    assert review["terraform_data.app[2]"] == "delete"
    # While the fix waits at its gate the scan keeps its hands off the working dir.
    assert tasks.scan_drift()["terraform"]["platform-drifty"].startswith("skipped")
    with db.session_scope() as session:
        service.confirm(session=session, job=session.get(Job, uuid.UUID(job_id)),
                        user=accounts.get(session=session, user_id=dev))
    inline()
    assert job(job_id).status == "succeeded", job(job_id).status_reason

    tasks.scan_drift()
    assert {i.state for i in items("platform-drifty").values()} == {"resolved"}
    with db.session_scope() as session:
        scan = session.scalars(select(DriftScan).where(
            DriftScan.scope == "platform-drifty")).one()
        assert scan.outcome == "clean"


def test_one_scan_at_a_time_across_workers(drift_env):
    """A second worker or beat finds the scan lock taken and does nothing."""
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as other:
        assert execution.try_lock(other, drift_scan.SCAN_TARGET)
        try:
            assert tasks.scan_drift() == {"skipped": "another drift scan is running"}
        finally:
            execution.unlock(other, drift_scan.SCAN_TARGET)
    assert "skipped" not in tasks.scan_drift()
    assert "selfservice-drift-scan" in tasks.BEAT_SCHEDULE


def test_ansible_check_mode_files_each_changed_task_with_its_diff(
        worker_app, inline, tmp_path, monkeypatch):  # noqa: F811
    inventory = tmp_path / "edge.yml"
    inventory.write_text(
        "all:\n  vars:\n    edge_manage_packages: false\n"
        f"    edge_root: {tmp_path}/root/\n"
        "  children:\n    edge:\n      children:\n        edge_local:\n          hosts:\n"
        f"            localhost: {{ansible_connection: local, ansible_python_interpreter: {sys.executable}}}\n")
    monkeypatch.setitem(worker_app.config, "SELFSERVICE_ANSIBLE_INVENTORY", str(inventory))
    assert drift_scan.sites(str(inventory)) == ["edge_local"]
    dev, manager = make_user("developer"), make_user("manager")

    result = tasks.scan_drift()["ansible"]["edge_local"]
    found = items("edge_local")
    assert found and result.startswith(f"{len(found)} found")
    assert all(s.startswith("localhost: ") for s in found)
    assert any(i.details["diff"] for i in found.values())
    assert not (tmp_path / "root").exists()  # check mode changed nothing

    client = login(worker_app, dev)
    first = next(iter(found.values()))
    assert client.post_form(f"/selfservice/drift/{first.id}/remediate").status_code == 303
    job_id = str(items("edge_local")[first.subject].remediation_job_id)
    inline()
    assert job(job_id).status == "awaiting_approval"
    with db.session_scope() as session:
        service.approve(session=session, job=session.get(Job, uuid.UUID(job_id)),
                        approver=accounts.get(session=session, user_id=manager),
                        comment="put the site back")
    inline()
    assert job(job_id).status == "succeeded", job(job_id).status_reason
    tasks.scan_drift()
    assert {i.state for i in items("edge_local").values()} == {"resolved"}


def test_the_bundled_fleet_is_never_contacted(worker_app):
    assert drift_scan.sites(engines.ansible_inventory()) == [engines.LOCAL_GROUP]


def test_the_inbox_page_roles_states_and_hostile_input(drift_env):
    dev, oncall = make_user("developer"), make_user("oncall")
    with db.session_scope() as session:
        drift.record_scan(session=session, source="terraform", scope="platform-page",
                          findings=[drift.Finding("terraform_data.bucket", "the plan would update",
                                                  {"action": "update", "attributes": [
                                                      {"path": "input.name", "old": '"a"',
                                                       "new": '"b"'}]})])
        item_id = session.scalars(select(DriftItem.id).where(
            DriftItem.scope == "platform-page")).one()
    viewer = login(drift_env, oncall)
    page = viewer.get("/selfservice/drift")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'id="drift-table"' in html and "terraform_data.bucket" in html
    assert 'data-action="accept"' not in html  # on-call sees, developers act
    assert viewer.post_form(f"/selfservice/drift/{item_id}/accept").status_code == 403
    assert viewer.get("/selfservice/drift?state=bogus").status_code == 400
    assert viewer.get("/selfservice/drift?state=new%00").status_code == 400

    actor = login(drift_env, dev)
    assert 'data-action="accept"' in actor.get("/selfservice/drift").get_data(as_text=True)
    assert actor.post(f"/selfservice/drift/{item_id}/accept").status_code == 400  # no CSRF
    assert actor.post_form(f"/selfservice/drift/{item_id}/explode").status_code == 404
    assert actor.post_form("/selfservice/drift/99999999999999/accept").status_code == 404
    assert actor.post_form(f"/selfservice/drift/{item_id}/accept").status_code == 303
    assert actor.post_form(f"/selfservice/drift/{item_id}/accept").status_code == 409
    with db.session_scope() as session:
        assert session.get(DriftItem, item_id).state == "accepted"
        session.execute(text("DELETE FROM selfservice_drift_items WHERE scope = 'platform-page'"))
