"""The plan review (portal.selfservice.plan_diff) on real `terraform show -json` output:
a small config is applied, then changed, and the real Terraform engine plans the change;
and a real sandbox plan of a job is shown on its page attribute by attribute."""
from __future__ import annotations

import json

import pytest

from portal.auth import service as accounts
from portal.extensions import db
from portal.selfservice import plan_diff, plan_policy, policy
from provisioning.terraform_cli import make_runner
from tests.conftest import TEST_PASSWORD, PortalClient
from tests.integration.selfservice.test_engines import inline, job, submit  # noqa: F401
from tests.integration.selfservice.test_worker import make_user

pytestmark = pytest.mark.integration

CONFIG = """
variable "size" { type = string }
variable "password" {
  type      = string
  sensitive = true
}
variable "tags" { type = map(string) }
variable "keep_old" { type = bool }
variable "generation" { type = number }

resource "terraform_data" "db" {
  input = { size = var.size, password = var.password, tags = var.tags }
}

resource "terraform_data" "worker" {
  triggers_replace = var.generation
  input            = { tags = var.tags }
}

resource "terraform_data" "old" {
  count = var.keep_old ? 1 : 0
  input = { tags = var.tags }
}
"""
TAGS = {"owner": "dev@meridian.example", "team": "platform", "cost-center": "cc-1001",
        "environment": "dev"}
SECRET_1, SECRET_2 = "hunter2-first-secret", "correct-horse-second-secret"


@pytest.fixture(scope="module")
def changed_plan(tmp_path_factory) -> dict:
    module = tmp_path_factory.mktemp("module")
    (module / "main.tf").write_text(CONFIG)
    runner = make_runner("auto", module_dir=module, work_root=tmp_path_factory.mktemp("work"),
                         environment="review-test", sink=lambda line: None)
    runner.plan(variables={"size": "small", "password": SECRET_1, "tags": TAGS,
                           "keep_old": True, "generation": 1})
    runner.apply()
    runner.plan(variables={"size": "large", "password": SECRET_2,
                           "tags": {k: v for k, v in TAGS.items() if k != "cost-center"},
                           "keep_old": False, "generation": 2})
    return runner.show_plan()


def by_address(review: dict) -> dict[str, dict]:
    return {r["address"]: r for r in review["resources"]}


def attrs(resource: dict) -> dict[str, tuple]:
    return {a["path"]: (a["old"], a["new"]) for a in resource["attributes"]}


def test_an_update_shows_old_and_new_values_and_what_is_known_only_after_apply(changed_plan):
    db = by_address(plan_diff.review(changed_plan))["terraform_data.db"]
    assert db["action"] == "update"
    changes = attrs(db)
    assert changes["input.size"] == ('"small"', '"large"')
    # The old output is shown whole next to its unknown successor, and it repeats the
    # password, so it is masked although Terraform does not mark it sensitive there.
    assert changes["output"] == (plan_diff.SENSITIVE, plan_diff.UNKNOWN)
    assert not any(path.startswith("output.") for path in changes)
    assert changes["input.tags.cost-center"] == ('"cc-1001"', None)
    assert "input.tags.team" not in changes  # unchanged attributes are not listed


def test_sensitive_values_are_masked_and_never_stored(changed_plan):
    review = plan_diff.review(changed_plan)
    db = by_address(review)["terraform_data.db"]
    assert attrs(db)["input.password"] == (plan_diff.SENSITIVE, plan_diff.SENSITIVE)
    stored = json.dumps(review)
    assert SECRET_1 not in stored and SECRET_2 not in stored
    assert SECRET_2 in json.dumps(changed_plan)  # Terraform's own output has it


def test_replacements_deletions_and_missing_cost_tags_are_flagged(changed_plan):
    review = plan_diff.review(changed_plan)
    resources = by_address(review)
    worker = resources["terraform_data.worker"]
    assert worker["action"] == "replace"
    forced = [a for a in worker["attributes"] if a["forces_replacement"]]
    assert [(a["path"], a["old"], a["new"]) for a in forced] == [("triggers_replace", "1", "2")]
    assert attrs(worker)["output"][0].startswith('{"tags": {')
    assert resources["terraform_data.old[0]"]["action"] == "delete"
    assert resources["terraform_data.old[0]"]["missing_tags"] == []  # going away: not checked
    assert resources["terraform_data.db"]["missing_tags"] == ["cost-center"]
    assert resources["terraform_data.db"]["tags"]["team"] == "platform"
    assert sorted(review["untagged"]) == ["terraform_data.db", "terraform_data.worker"]
    # The Rego policy of the same plan agrees with the card.
    denies = {r["policy"]: r["deny"] for r in plan_policy.plan_policy_results(changed_plan)}
    assert "terraform_data.db lacks the cost tag(s) cost-center" in denies["cost_tags"]


def test_the_review_requires_the_same_cost_tags_as_the_request_policy():
    assert plan_diff.REQUIRED_TAGS == policy.REQUIRED_TAGS


def test_a_resource_without_tags_support_is_not_flagged():
    plan = {"resource_changes": [{
        "address": "aws_s3_bucket_acl.logs", "type": "aws_s3_bucket_acl",
        "change": {"actions": ["create"], "before": None, "after": {"acl": "private"},
                   "after_unknown": {"id": True}, "before_sensitive": False,
                   "after_sensitive": {}}}]}
    resource = plan_diff.review(plan)["resources"][0]
    assert resource["tags"] is None and resource["missing_tags"] == []
    assert attrs(resource) == {"acl": (None, '"private"'), "id": (None, plan_diff.UNKNOWN)}


def test_the_job_page_shows_the_attribute_diff_policies_and_cost_tags(worker_app, inline):  # noqa: F811
    dev = make_user("developer")
    job_id = submit(dev, "dev-environment", name="platform-review", team="platform",
                    cost_center="cc-1001", replicas="2")
    inline()
    planned = job(job_id)
    assert planned.status == "awaiting_approval", planned.status_reason
    review = planned.plan["review"]
    assert {r["address"] for r in review["resources"]} >= {"terraform_data.app[1]"}
    assert review["untagged"] == []
    worker_app.test_client_class = PortalClient
    client = worker_app.test_client()
    with db.session_scope() as session:
        email = accounts.get(session=session, user_id=dev).email
    assert client.post_form("/login", {"email": email, "password": TEST_PASSWORD}
                            ).status_code == 303
    html = client.get(f"/selfservice/jobs/{job_id}").get_data(as_text=True)
    assert 'id="plan-review"' in html and 'data-address="terraform_data.app[1]"' in html
    assert "input.name" in html and "&#34;platform-review-app-1&#34;" in html
    assert "<em>(known after apply)</em>" in html
    assert "cost-center=cc-1001" in html
    assert 'id="plan-policies"' in html and "Cost tags on every resource" in html
