"""The SecurityEventsSpike alert: `promtool check rules` and `promtool test rules` (Debian
prometheus package) on infra/prometheus/security_rules.yml, a broken threshold caught by
the test file, and the rule file loaded by compose's Prometheus and by `portal dev`."""
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
def test_promtool_checks_the_rules_and_their_firing_and_quiet_cases():
    checked = _promtool("check", "rules", "security_rules.yml", cwd=INFRA)
    assert checked.returncode == 0 and "SUCCESS: 1 rules found" in checked.stdout, (
        checked.stdout + checked.stderr)
    tested = _promtool("test", "rules", "security_rules_test.yml", cwd=INFRA)
    assert tested.returncode == 0, tested.stdout + tested.stderr


@needs_promtool
def test_the_test_file_catches_a_threshold_that_would_page_on_the_trickle(tmp_path):
    doc = yaml.safe_load((INFRA / "security_rules.yml").read_text())
    (rule,) = doc["groups"][0]["rules"]
    rule["expr"] = rule["expr"].replace("> 0.5", "> 0.05")
    (tmp_path / "security_rules.yml").write_text(yaml.safe_dump(doc, sort_keys=False))
    shutil.copy(INFRA / "security_rules_test.yml", tmp_path)
    tested = _promtool("test", "rules", "security_rules_test.yml", cwd=tmp_path)
    assert tested.returncode != 0 and "FAILED" in tested.stdout + tested.stderr


def test_the_alert_is_a_ticket_with_a_runbook_and_is_loaded_everywhere():
    (rule,) = yaml.safe_load((INFRA / "security_rules.yml").read_text())["groups"][0]["rules"]
    assert rule["alert"] == "SecurityEventsSpike" and rule["labels"]["severity"] == "ticket"
    assert "[5m]" in rule["expr"] and rule["annotations"]["runbook_url"].startswith("https://")
    config = yaml.safe_load((INFRA / "prometheus.yml").read_text())
    assert "/etc/prometheus/security_rules.yml" in config["rule_files"]
    loaded = dev_alerting.rule_files(INFRA)
    assert (INFRA / "security_rules.yml").resolve() in loaded
    assert (INFRA / "security_rules_test.yml").resolve() not in loaded
