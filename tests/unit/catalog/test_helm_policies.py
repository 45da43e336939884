"""The chart evaluator and the Gatekeeper policies, on the real charts and a broken one."""
from pathlib import Path

import pytest

from portal.catalog import policies
from portal.catalog.helm import ChartError, load_chart, render_template
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


def test_template_subset_conditions_pipes_and_trimming():
    scope = {"Values": {"on": True, "n": 3, "name": 'a "b"', "m": {"k": [1, 2]}},
             "Chart": {"Name": "c"}, "Release": {"Name": "r"}}
    text = ("{{- if .Values.on }}\nyes: {{ .Values.name | quote }}\n{{- else }}\nno: 1\n"
            "{{- end }}\n{{- if gt (int .Values.n) 5 }}\nbig: 1\n{{- end }}\nm:"
            "{{- toYaml .Values.m | nindent 2 }}\n{{/* comment */}}")
    # Like Helm, `{{- if }}` trims only to its left: the newline after it stays.
    assert render_template(text, scope) == '\nyes: "a \\"b\\""\nm:\n  k:\n  - 1\n  - 2\n'


@pytest.mark.parametrize("text, message", [
    ("{{ include \"x\" . }}", "unsupported template expression"),
    ("{{ .Values.a | upper }}", "unsupported template function"),
    ("{{ if .Values.a }}x", "`if` without `end`"),
    ("{{ end }}", "`end` without `if`"),
    ("{{ if eq .Values.a 1 }}{{ end }}", "unsupported condition"),
])
def test_unknown_template_syntax_is_refused_not_guessed(text, message):
    with pytest.raises(ChartError, match=message):
        render_template(text, {"Values": {}})


def test_missing_and_invalid_charts_raise_chart_errors(tmp_path: Path):
    with pytest.raises(ChartError, match="Chart.yaml missing"):
        load_chart(tmp_path / "nope")
    (tmp_path / "Chart.yaml").write_text("name: bad\n")
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "x.yaml").write_text("a: [unclosed\n")
    with pytest.raises(ChartError, match="renders invalid YAML"):
        load_chart(tmp_path)
