"""The alert catalogue in infra/prometheus/: `promtool check rules` and `promtool test rules`
per file, a firing and a quiet case for every rule, severity and a catalog runbook_url on
each, the files loaded by compose's Prometheus and by `portal dev`, and broken thresholds
caught by the test files."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from portal import dev_alerting
from portal.catalog import alert_catalogue

PROMTOOL = shutil.which("promtool")
INFRA = alert_catalogue.RULES_ROOT
needs_promtool = pytest.mark.skipif(PROMTOOL is None,
                                    reason="promtool not installed (apt prometheus)")
SEVERITIES = {"critical", "warning", "info"}


def _promtool(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([PROMTOOL, *args], cwd=cwd, capture_output=True, text=True,
                          timeout=300)


def _test_file(name: str) -> str:
    return name.replace(".yml", "_test.yml")


@needs_promtool
@pytest.mark.parametrize("name", alert_catalogue.RULE_FILES)
def test_promtool_checks_and_tests_each_rule_file(name):
    checked = _promtool("check", "rules", name, cwd=INFRA)
    assert checked.returncode == 0 and "SUCCESS" in checked.stdout, (
        checked.stdout + checked.stderr)
    assert "lint" not in (checked.stdout + checked.stderr).lower()
    tested = _promtool("test", "rules", _test_file(name), cwd=INFRA)
    assert tested.returncode == 0 and "SUCCESS" in tested.stdout, tested.stdout + tested.stderr


@pytest.mark.parametrize("name", alert_catalogue.RULE_FILES)
def test_every_rule_has_a_firing_and_a_quiet_case(name):
    doc = yaml.safe_load((INFRA / _test_file(name)).read_text())
    assert doc["rule_files"] == [name]
    cases: dict[str, set[bool]] = {}
    for test in doc["tests"]:
        for case in test.get("alert_rule_test") or []:
            cases.setdefault(case["alertname"], set()).add(bool(case["exp_alerts"]))
    names = {r.name for r in alert_catalogue.load() if r.file == name}
    assert names and {n: cases.get(n) for n in names} == {n: {True, False} for n in names}


def test_every_rule_has_a_severity_a_summary_and_a_catalog_runbook_url():
    rules = alert_catalogue.load()
    assert len(rules) >= 25 and len({r.name for r in rules}) == len(rules)
    for rule in rules:
        assert rule.severity in SEVERITIES, rule
        assert rule.summary and rule.description, rule
        assert rule.runbook_url.startswith("https://portal.meridian.example/catalog/runbooks/")
        assert rule.runbook_slug, rule


def test_every_rule_of_every_file_points_at_a_catalog_runbook_page():
    """Not only the catalogue's files: every rule file Prometheus loads (the seeded catalog
    having each runbook is checked in tests/integration/catalog_alerts)."""
    names = alert_catalogue.rule_file_names()
    assert [p.name for p in dev_alerting.rule_files(INFRA)] == list(names)
    rules = alert_catalogue.load(names=names)
    assert {"ErrorBudgetBurn", "DeadLetterQueueGrowing", "SecurityEventsSpike"} <= {
        r.name for r in rules}
    for rule in rules:
        assert (rule.runbook_url or "").startswith(alert_catalogue.RUNBOOK_BASE_URL), rule
        assert rule.runbook_slug, rule


def test_the_rule_files_are_loaded_by_compose_and_by_portal_dev():
    config = yaml.safe_load((INFRA / "prometheus.yml").read_text())
    loaded = dev_alerting.rule_files(INFRA)
    for name in alert_catalogue.RULE_FILES:
        assert f"/etc/prometheus/{name}" in config["rule_files"]
        assert (INFRA / name).resolve() in loaded
        assert (INFRA / _test_file(name)).resolve() not in loaded


def test_runbook_slug_accepts_only_catalog_runbook_pages():
    assert alert_catalogue.runbook_slug(
        "https://portal.meridian.example/catalog/runbooks/vault-sealed") == "vault-sealed"
    for url in (None, "", "https://wiki.meridian.example/runbooks/slo",
                "https://portal.meridian.example/catalog/runbooks/",
                "https://portal.meridian.example/catalog/runbooks/a/edit"):
        assert alert_catalogue.runbook_slug(url) is None


@needs_promtool
@pytest.mark.parametrize(("name", "alert", "old", "new"), [
    ("certificates_rules.yml", "CertificateExpiringSoon", "14 * 86400", "7 * 86400"),
    ("services_rules.yml", "HighErrorRate", "> 0.05", "> 0.1"),
    ("databases_rules.yml", "DBConnectionPoolExhausted", 'state="active"', 'state=~".+"'),
    ("kubernetes_rules.yml", "PodNotReady", "unless on", "or on"),
])
def test_the_test_files_catch_a_broken_rule(tmp_path, name, alert, old, new):
    doc = yaml.safe_load((INFRA / name).read_text())
    (rule,) = [r for g in doc["groups"] for r in g["rules"] if r.get("alert") == alert]
    assert old in rule["expr"]
    rule["expr"] = rule["expr"].replace(old, new)
    (tmp_path / name).write_text(yaml.safe_dump(doc, sort_keys=False))
    shutil.copy(INFRA / _test_file(name), tmp_path)
    tested = _promtool("test", "rules", _test_file(name), cwd=tmp_path)
    assert tested.returncode != 0 and alert in tested.stdout + tested.stderr


def test_readable_shows_template_parts_by_their_label_names():
    assert alert_catalogue.readable(
        "{{ $labels.container }} of {{$labels.pod}} is at {{ $value | humanizePercentage }}"
    ) == "<container> of <pod> is at …"
    assert alert_catalogue.readable(None) == ""
