"""The dead-letter alert rules pass `promtool check rules` and their `promtool test rules`
cases (Debian prometheus package), fail a case when the rule is wrong, and are loaded by
the production Prometheus config and by `portal dev`'s local Prometheus."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from portal import dev_alerting
from portal.config import PROJECT_ROOT

PROMTOOL = shutil.which("promtool")
INFRA = PROJECT_ROOT / "infra" / "prometheus"
needs_promtool = pytest.mark.skipif(PROMTOOL is None,
                                    reason="promtool not installed (apt prometheus)")


def _promtool(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([PROMTOOL, *args], cwd=cwd, capture_output=True, text=True,
                          timeout=300)


@needs_promtool
def test_promtool_checks_and_tests_the_dlq_rules():
    checked = _promtool("check", "rules", "dlq_rules.yml", cwd=INFRA)
    assert checked.returncode == 0 and "SUCCESS: 2 rules found" in checked.stdout, \
        checked.stdout + checked.stderr
    tested = _promtool("test", "rules", "dlq_rules_test.yml", cwd=INFRA)
    assert tested.returncode == 0, tested.stdout + tested.stderr


@needs_promtool
def test_the_test_case_fails_when_growth_is_not_alerted(tmp_path):
    doc = yaml.safe_load((INFRA / "dlq_rules.yml").read_text())
    doc["groups"][0]["rules"][0]["expr"] = \
        "max by (service, queue) (delta(meridian_dlq_messages[15m])) > 100"
    (tmp_path / "dlq_rules.yml").write_text(yaml.safe_dump(doc))
    shutil.copy(INFRA / "dlq_rules_test.yml", tmp_path)
    assert _promtool("test", "rules", "dlq_rules_test.yml", cwd=tmp_path).returncode != 0


def test_production_and_dev_prometheus_load_the_dlq_rules():
    config = yaml.safe_load((INFRA / "prometheus.yml").read_text())
    assert "/etc/prometheus/dlq_rules.yml" in config["rule_files"]
    names = [p.name for p in dev_alerting.rule_files(INFRA)]
    assert "dlq_rules.yml" in names and "slo_rules.yml" in names
    assert not [n for n in names if n.endswith("_test.yml")]
