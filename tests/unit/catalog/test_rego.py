"""The Rego engine (regopy) running Gatekeeper ConstraintTemplates as the webhook would."""
import os
import shutil
from pathlib import Path

import pytest

from portal.catalog import policies, readiness
from portal.catalog import service as catalog
from portal.integrations import rego
from tests.unit.catalog.conftest import CHARTS

TEMPLATES = policies.GATEKEEPER_ROOT / "templates"
CONSTRAINTS = policies.GATEKEEPER_ROOT / "constraints"


def test_an_admission_review_shaped_input_gets_the_templates_violations():
    template = rego.load_template(TEMPLATES / "k8sapprovedregistry.yaml")
    assert template.kind == "K8sApprovedRegistry" and template.package == "k8sapprovedregistry"
    evaluator = rego.Evaluator(template.modules, {"inventory": {}})
    review = {"kind": {"group": "apps", "version": "v1", "kind": "Deployment"},
              "name": "web", "namespace": "shop", "operation": "CREATE",
              "object": {"apiVersion": "apps/v1", "kind": "Deployment",
                         "metadata": {"name": "web", "namespace": "shop"},
                         "spec": {"template": {"spec": {
                             "initContainers": [{"name": "init", "image": "quay.io/x:1"}],
                             "containers": [{"name": "web", "image": "ghcr.io/meridian/web:2"}]}}}}}
    found = rego.messages(evaluator.query("data.k8sapprovedregistry.violation", {
        "review": review, "parameters": {"registries": ["ghcr.io/meridian/", "mirror.io/"]}}),
        "violation")
    assert found == ["Deployment/web container init pulls 'quay.io/x:1', outside "
                     "ghcr.io/meridian/*, mirror.io/*"]


def test_every_constraint_names_its_templates_kind_and_matches_workloads_only():
    for policy in policies.POLICIES.values():
        template = rego.load_template(TEMPLATES / policy.template)
        constraint = rego.load_constraint(CONSTRAINTS / policy.constraint)
        assert constraint.kind == template.kind
        assert constraint.enforcement == "deny"
        assert constraint.matches({"apiVersion": "apps/v1", "kind": "StatefulSet"})
        assert not constraint.matches({"apiVersion": "v1", "kind": "Service"})
        assert not constraint.matches({"apiVersion": "apps/v1", "kind": "Deployment"},
                                      namespace="kube-system")
    registry = rego.load_constraint(CONSTRAINTS / "approved-registry.yaml")
    assert registry.parameters == {"registries": ["ghcr.io/meridian/"]}


def test_inventory_follows_gatekeepers_layout():
    netpol = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
              "metadata": {"name": "np"}}
    pdb = {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
           "metadata": {"name": "pdb", "namespace": "other"}}
    assert rego.inventory([netpol, pdb], namespace="shop") == {"cluster": {}, "namespace": {
        "shop": {"networking.k8s.io/v1": {"NetworkPolicy": {"np": netpol}}},
        "other": {"policy/v1": {"PodDisruptionBudget": {"pdb": pdb}}}}}


def _copy_policies(tmp_path: Path) -> Path:
    root = tmp_path / "gatekeeper"
    shutil.copytree(policies.GATEKEEPER_ROOT, root)
    return root


def _rewrite(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))
    stat = path.stat()  # a later mtime even on coarse clocks: the cache key is the mtime
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))


def test_a_syntax_error_in_a_template_raises_instead_of_passing(tmp_path):
    root = _copy_policies(tmp_path)
    _rewrite(root / "templates" / "k8snoprivilegedcontainers.yaml",
             "container.securityContext.privileged == true", "container.securityContext. ==")
    with pytest.raises(rego.RegoError, match="k8snoprivilegedcontainers.yaml"):
        policies.violations("not_privileged", [], root=root)


def test_an_evaluation_error_raises_with_the_interpreters_reason(tmp_path):
    root = _copy_policies(tmp_path)
    # sprintf's second operand must be an array: a type error at evaluation time.
    _rewrite(root / "templates" / "k8snoprivilegedcontainers.yaml",
             '[workloads.where(obj, container)])', 'workloads.where(obj, container))')
    deployment = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "x"},
                  "spec": {"template": {"spec": {"containers": [
                      {"name": "x", "securityContext": {"privileged": True}}]}}}}
    with pytest.raises(rego.RegoError, match="sprintf"):
        policies.violations("not_privileged", [deployment], root=root)


def test_a_scorecard_check_fails_with_the_reason_when_its_policy_is_broken(
        seeded, tmp_path, monkeypatch):
    root = _copy_policies(tmp_path)
    _rewrite(root / "templates" / "k8snoprivilegedcontainers.yaml",
             "container.securityContext.privileged == true", "container.securityContext. ==")
    monkeypatch.setattr(policies, "GATEKEEPER_ROOT", root)
    order = catalog.get_service(session=seeded, slug="order")
    card = readiness.evaluate(session=seeded, service=order, rules={})
    results = {r.check.id: r for r in card.results}
    assert results["not-privileged"].status == "fail"
    assert results["not-privileged"].detail.startswith(
        "Cannot be checked: the Gatekeeper policy fails to evaluate (k8snoprivilegedcontainers")
    assert results["non-root"].status == "pass"
    order.helm_chart = "broken"
    card = readiness.evaluate(session=seeded, service=order, helm_root=CHARTS, rules={})
    assert {r.check.id: r.status for r in card.results}["not-privileged"] == "fail"


def test_edited_policy_files_are_reloaded_by_mtime(tmp_path):
    root = _copy_policies(tmp_path)
    deployment = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "x"},
                  "spec": {"template": {"spec": {"containers": [
                      {"name": "x", "image": "quay.io/x:1"}]}}}}
    assert policies.violations("approved_registry", [deployment], root=root)
    _rewrite(root / "constraints" / "approved-registry.yaml", '["ghcr.io/meridian/"]',
             '["ghcr.io/meridian/", "quay.io/"]')
    assert policies.violations("approved_registry", [deployment], root=root) == []


def test_files_that_are_not_templates_are_refused(tmp_path):
    path = tmp_path / "t.yaml"
    path.write_text("kind: ConstraintTemplate\nspec: {targets: [{target: other, rego: x}]}\n")
    with pytest.raises(rego.RegoError, match="admission.k8s.gatekeeper.sh"):
        rego.load_template(path)
    path.write_text("kind: Deployment\n")
    with pytest.raises(rego.RegoError, match="not a ConstraintTemplate"):
        rego.load_template(path)
    with pytest.raises(rego.RegoError, match="no `package`"):
        rego.module("m.rego", "allow := true")


def test_an_undefined_rule_is_an_error_not_an_empty_result():
    evaluator = rego.Evaluator((rego.module("m", "package m\nimport rego.v1\nx := 1\n"),))
    with pytest.raises(rego.RegoError, match="not defined"):
        rego.messages(evaluator.query("data.m.violation", {}), "data.m.violation")
