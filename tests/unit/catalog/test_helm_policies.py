"""The charts rendered and linted by the real Helm, and the Gatekeeper policies on them."""
import os
from pathlib import Path

import pytest

from portal.catalog import policies
from portal.integrations import helm
from portal.catalog.helm import ChartError, load_chart
from portal.catalog.readiness import HELM_ROOT
from tests.unit.catalog.conftest import CHARTS

PLATFORM_CHARTS = ["order", "inventory", "fulfillment", "worker", "report", "auth", "billing",
                   "search", "notification", "api-gateway", "portal"]
RULES = [policies.non_root, policies.not_privileged, policies.resource_limits,
         policies.no_latest_tag, policies.approved_registry, policies.network_policy,
         policies.disruption_budget, policies.probes]


@pytest.mark.parametrize("name", PLATFORM_CHARTS)
def test_every_platform_chart_renders_and_satisfies_every_policy(name):
    chart = load_chart(HELM_ROOT / name)
    kinds = sorted(o["kind"] for o in chart.objects)
    assert kinds == ["Deployment", "NetworkPolicy", "PodDisruptionBudget", "Service",
                     "ServiceAccount"]
    deployment = policies.workloads(chart.objects)[0]
    assert deployment["spec"]["template"]["spec"]["containers"][0]["image"] == \
        f"ghcr.io/meridian/{name}:1.4.2"
    assert {rule.__name__: rule(chart.objects) for rule in RULES} == \
        {rule.__name__: [] for rule in RULES}


def test_broken_chart_violates_each_policy_with_an_explanation():
    objects = load_chart(CHARTS / "broken").objects
    assert policies.non_root(objects) == ["Deployment/broken container broken sets runAsUser: 0"]
    assert policies.not_privileged(objects) == ["Deployment/broken container broken is privileged"]
    assert "no cpu and memory limit" in policies.resource_limits(objects)[0]
    assert "the latest tag" in policies.no_latest_tag(objects)[0]
    assert "outside ghcr.io/meridian/*" in policies.approved_registry(objects)[0]
    assert policies.network_policy(objects) == ["no NetworkPolicy selects the pods of "
                                                "Deployment/broken"]
    assert policies.disruption_budget(objects) == ["Deployment/broken runs 3 replicas without "
                                                   "a PodDisruptionBudget"]
    assert "livenessProbe, readinessProbe, startupProbe" in policies.probes(objects)[0]


def test_single_replica_needs_no_pdb_and_untagged_or_foreign_images_fail():
    deployment = {"kind": "Deployment", "metadata": {"name": "x"}, "spec": {
        "replicas": 1, "template": {"metadata": {"labels": {"app": "x"}}, "spec": {
            "containers": [{"name": "x", "image": "ghcr.io/meridian/x"}]}}}}
    assert policies.disruption_budget([deployment]) == []
    assert "no tag" in policies.no_latest_tag([deployment])[0]
    deployment["spec"]["template"]["spec"]["containers"][0]["image"] = "ghcr.io/other/x@sha256:ab"
    assert policies.no_latest_tag([deployment]) == []
    assert policies.approved_registry([deployment])


def test_network_policy_must_select_the_workload_pods():
    workload = {"kind": "Deployment", "metadata": {"name": "a"}, "spec": {
        "template": {"metadata": {"labels": {"app": "a"}}, "spec": {"containers": []}}}}
    other = {"kind": "NetworkPolicy", "spec": {"podSelector": {"matchLabels": {"app": "b"}}}}
    assert policies.network_policy([workload, other])
    every = {"kind": "NetworkPolicy", "spec": {"podSelector": {}}}
    assert policies.network_policy([workload, every]) == []


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
