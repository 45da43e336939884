"""Egress restricted in every chart, autoscalers required by Gatekeeper, and the order service
released as an Argo Rollouts canary gated on its SLO burn rate, all rendered by the real Helm
and checked by the policies of infra/gatekeeper/ through regopy."""
from __future__ import annotations

import copy
from pathlib import Path

import promql_parser
import pytest
import yaml

from portal.catalog import policies
from portal.catalog.helm import load_chart
from portal.catalog.readiness import HELM_ROOT
from portal.integrations import helm
from tests.unit.catalog.conftest import CHARTS

CHART_NAMES = sorted(p.parent.name for p in HELM_ROOT.glob("*/Chart.yaml")
                     if "file://../meridian-lib" in p.read_text())
SLO_RULES = HELM_ROOT.parents[1] / "infra" / "prometheus" / "slo_rules.yml"
DNS = {"to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
               "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}],
       "ports": [{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}]}
DATASTORE_PORTS = {5432, 6432, 6379, 5672, 5671}


def kind(objects: list[dict], wanted: str) -> list[dict]:
    return [o for o in objects if o["kind"] == wanted]


def service_targets(rules: list[dict]) -> set[tuple[str, str, int]]:
    """(namespace, app name, port) of the egress rules that name in-cluster pods."""
    found = set()
    for rule in rules:
        for peer in rule.get("to", []):
            if "podSelector" in peer and "namespaceSelector" in peer:
                found |= {(peer["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"],
                           peer["podSelector"]["matchLabels"].get("app.kubernetes.io/name",
                                                                  "k8s-app"),
                           port["port"]) for port in rule["ports"]}
    return found


@pytest.mark.parametrize("name", CHART_NAMES)
def test_every_chart_restricts_egress_to_dns_data_stores_and_its_dependencies(name):
    chart = load_chart(HELM_ROOT / name)
    [policy] = kind(chart.objects, "NetworkPolicy")
    assert policy["spec"]["policyTypes"] == ["Ingress", "Egress"]
    rules = policy["spec"]["egress"]
    assert rules[0] == DNS
    assert {p["port"] for p in rules[1]["ports"]} == DATASTORE_PORTS
    # Every other rule names a dependency from the chart's settings, on its port only.
    dependencies = {(url.split(".")[1], url.split("//")[1].split(".")[0],
                     int(url.rsplit(":", 1)[1]))
                    for url in chart.values["config"].values()
                    if isinstance(url, str) and ".svc.cluster.local:" in url}
    assert service_targets(rules[2:]) == dependencies
    extra = chart.values["networkPolicy"].get("extraEgress", [])
    assert len(rules) == 2 + len(dependencies) + len(extra)
    # No rule is open to everything.
    assert all(rule.get("to") or rule.get("ports") for rule in rules)


def test_order_may_reach_auth_and_inventory_and_no_other_service():
    [policy] = kind(load_chart(HELM_ROOT / "order").objects, "NetworkPolicy")
    assert service_targets(policy["spec"]["egress"]) == {
        ("kube-system", "k8s-app", 53), ("meridian-prod", "auth", 8106),
        ("meridian-prod", "inventory", 8102)}


def test_only_the_portal_reaches_https_outside_the_cluster():
    for name in CHART_NAMES:
        [policy] = kind(load_chart(HELM_ROOT / name).objects, "NetworkPolicy")
        ports = {p["port"] for r in policy["spec"]["egress"] for p in r["ports"]}
        assert (443 in ports) == (name == "portal"), name


def test_a_chart_without_an_egress_policy_fails_the_egress_constraint():
    broken = load_chart(CHARTS / "broken").objects
    assert policies.violations("egress_policy", broken) == [
        "no NetworkPolicy restricts the egress of Deployment/broken"]
    objects = copy.deepcopy(load_chart(HELM_ROOT / "inventory").objects)
    assert policies.violations("egress_policy", objects, namespace="meridian-prod") == []
    [policy] = kind(objects, "NetworkPolicy")
    policy["spec"]["policyTypes"] = ["Ingress"]  # ingress only: egress is open
    assert sorted(policies.violations("egress_policy", objects, namespace="meridian-prod")) == [
        "no NetworkPolicy restricts the egress of Deployment/inventory",
        "no NetworkPolicy restricts the egress of Deployment/inventory-background"]
    policy["spec"]["policyTypes"] = ["Ingress", "Egress"]
    policy["spec"]["egress"].append({})  # a rule allowing everything undoes the rest
    assert sorted(policies.violations("egress_policy", objects, namespace="meridian-prod")) == [
        "NetworkPolicy/inventory allows Deployment/inventory egress to every destination "
        "and port",
        "NetworkPolicy/inventory allows Deployment/inventory-background egress to every "
        "destination and port"]


def test_a_scaled_workload_needs_an_autoscaler_unless_its_fixed_count_is_explained():
    objects = copy.deepcopy(load_chart(HELM_ROOT / "portal").objects)
    assert policies.violations("autoscaler", objects) == []
    # The singleton (beat) needs none; the web process loses its HPA: a violation.
    without_hpa = [o for o in objects if o["kind"] != "HorizontalPodAutoscaler"]
    assert policies.violations("autoscaler", without_hpa) == [
        "no HorizontalPodAutoscaler scales Deployment/portal"]
    [worker] = [o for o in kind(objects, "Deployment")
                if o["metadata"]["name"] == "portal-worker"]
    assert worker["spec"]["replicas"] == 2
    worker["metadata"]["annotations"]["autoscaling.meridian.io/fixed-replicas"] = " "
    assert policies.violations("autoscaler", objects) == [
        "no HorizontalPodAutoscaler scales Deployment/portal-worker"]
    # An HPA aimed at another kind of the same name does not count.
    order = copy.deepcopy(load_chart(HELM_ROOT / "order").objects)
    [hpa] = kind(order, "HorizontalPodAutoscaler")
    hpa["spec"]["scaleTargetRef"].update(kind="Deployment", apiVersion="apps/v1")
    assert policies.violations("autoscaler", order) == [
        "no HorizontalPodAutoscaler scales Rollout/order"]


def test_order_web_is_a_canary_rollout_gated_on_the_slo_burn_rate():
    objects = load_chart(HELM_ROOT / "order").objects
    [rollout] = kind(objects, "Rollout")
    [analysis] = kind(objects, "AnalysisTemplate")
    assert rollout["apiVersion"] == analysis["apiVersion"] == "argoproj.io/v1alpha1"
    assert rollout["metadata"]["name"] == "order"
    assert [d["metadata"]["name"] for d in kind(objects, "Deployment")] == ["order-background"]
    steps = rollout["spec"]["strategy"]["canary"]["steps"]
    gate = {"analysis": {"templates": [{"templateName": analysis["metadata"]["name"]}]}}
    assert steps == [{"setWeight": 10}, {"pause": {"duration": "5m"}}, gate,
                     {"setWeight": 50}, {"pause": {"duration": "10m"}}, gate]
    # Same pods as the Deployment it replaces: selector, probes, command.
    container = rollout["spec"]["template"]["spec"]["containers"][0]
    assert container["command"][0] == "gunicorn" and "readinessProbe" in container
    assert "replicas" not in rollout["spec"]  # the HPA's
    [hpa] = kind(objects, "HorizontalPodAutoscaler")
    assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "argoproj.io/v1alpha1",
                                             "kind": "Rollout", "name": "order"}

    [metric] = analysis["spec"]["metrics"]
    assert metric["failureCondition"] == "len(result) > 0 && result[0] > 6"
    assert metric["failureLimit"] == 1
    query = promql_parser.parse(metric["provider"]["prometheus"]["query"])
    selector = query.expr
    assert isinstance(selector, promql_parser.VectorSelector)
    assert str(selector.matchers) == '{sloth_service="order"}'
    # The metric is one the recording rules produce for the order SLOs.
    records = {(rule["record"], rule.get("labels", {}).get("sloth_service"))
               for group in yaml.safe_load(SLO_RULES.read_text())["groups"]
               for rule in group["rules"] if "record" in rule}
    assert (selector.name, "order") in records


def test_the_canary_toggle_is_off_for_every_other_chart_and_can_be_turned_off(tmp_path: Path):
    for name in CHART_NAMES:
        if name != "order":
            assert not kind(load_chart(HELM_ROOT / name).objects, "Rollout"), name
    off = tmp_path / "off.yaml"
    off.write_text("canary:\n  enabled: false\n")
    objects = helm.template(HELM_ROOT / "order", release="order", namespace="meridian-prod",
                            values=(off,))
    assert not kind(objects, "Rollout") and not kind(objects, "AnalysisTemplate")
    [hpa] = kind(objects, "HorizontalPodAutoscaler")
    assert hpa["spec"]["scaleTargetRef"]["kind"] == "Deployment"
    assert sorted(d["metadata"]["name"] for d in kind(objects, "Deployment")) == [
        "order", "order-background"]
