"""SLO-as-code: generated rules pass `promtool check rules` and `promtool test rules`
(Debian prometheus package), and the committed infra/prometheus files are current."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from portal.config import PROJECT_ROOT
from portal.slo import rules

PROMTOOL = shutil.which("promtool")
pytestmark = pytest.mark.skipif(PROMTOOL is None, reason="promtool not installed (apt prometheus)")
INFRA = PROJECT_ROOT / "infra" / "prometheus"


def _promtool(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([PROMTOOL, *args], cwd=cwd, capture_output=True, text=True,
                          timeout=60)


def test_committed_rules_are_generated_from_the_seed_specs(tmp_path):
    rules.write(tmp_path)
    for name in ("slo_rules.yml", "slo_rules_test.yml"):
        assert (tmp_path / name).read_text() == (INFRA / name).read_text(), (
            f"{name} is stale: run python -m portal.slo.rules infra/prometheus")


def test_promtool_checks_and_tests_the_committed_rules():
    checked = _promtool("check", "rules", "slo_rules.yml", cwd=INFRA)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "SUCCESS: 154 rules found" in checked.stdout
    tested = _promtool("test", "rules", "slo_rules_test.yml", cwd=INFRA)
    assert tested.returncode == 0, tested.stdout + tested.stderr


def test_promtool_test_fails_when_the_alert_threshold_is_wrong(tmp_path):
    rules.write(tmp_path)
    path = tmp_path / "slo_rules.yml"
    doc = yaml.safe_load(path.read_text())
    for group in doc["groups"]:
        for rule in group["rules"]:
            if rule.get("labels", {}).get("long_window") == "1h":
                rule["expr"] = rule["expr"].replace("14.4 *", "30 *")
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    tested = _promtool("test", "rules", "slo_rules_test.yml", cwd=tmp_path)
    assert tested.returncode != 0 and "FAILED" in (tested.stdout + tested.stderr)


def test_alerts_carry_runbook_and_dashboard_annotations():
    doc = yaml.safe_load((INFRA / "slo_rules.yml").read_text())
    alerts = [r for g in doc["groups"] for r in g["rules"] if "alert" in r]
    assert len(alerts) == 4 * 14
    assert all(a["annotations"]["runbook_url"].startswith("https://") and
               "dashboard_url" in a["annotations"] for a in alerts)
