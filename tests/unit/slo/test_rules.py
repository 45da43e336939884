"""SLO-as-code: generated rules pass `promtool check rules` and `promtool test rules`
(Debian prometheus package), and the committed infra/prometheus files are current."""
from __future__ import annotations

import shutil
import subprocess
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml

from portal.config import PROJECT_ROOT
from portal.slo import rules

PROMTOOL = shutil.which("promtool")
pytestmark = pytest.mark.skipif(PROMTOOL is None, reason="promtool not installed (apt prometheus)")
INFRA = PROJECT_ROOT / "infra" / "prometheus"


def _promtool(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    # promtool evaluates every rule at each step of each case: minutes on a busy machine.
    return subprocess.run([PROMTOOL, *args], cwd=cwd, capture_output=True, text=True,
                          timeout=300)


def test_committed_rules_are_generated_from_the_seed_specs(tmp_path):
    rules.write(tmp_path)
    for name in ("slo_rules.yml", "slo_rules_test.yml"):
        assert (tmp_path / name).read_text() == (INFRA / name).read_text(), (
            f"{name} is stale: run python -m portal.slo.rules infra/prometheus")


def test_promtool_checks_and_tests_the_committed_rules():
    checked = _promtool("check", "rules", "slo_rules.yml", cwd=INFRA)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    # 13 SLOs: 7 burn windows + the 30-day period, 6 error-budget series, 4 alerts each
    assert "SUCCESS: 234 rules found" in checked.stdout
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
    assert len(alerts) == 4 * 13
    assert all(a["annotations"]["runbook_url"].startswith("https://") and
               "dashboard_url" in a["annotations"] for a in alerts)


def test_promtool_test_fails_when_the_remaining_budget_is_wrong(tmp_path):
    rules.write(tmp_path)
    path = tmp_path / "slo_rules.yml"
    text = path.read_text()
    assert text.count("expr: 1 - slo:period_burn_rate:ratio") == 13
    path.write_text(text.replace("expr: 1 - slo:period_burn_rate:ratio",
                                 "expr: 0.9 - slo:period_burn_rate:ratio"))
    tested = _promtool("test", "rules", "slo_rules_test.yml", cwd=tmp_path)
    assert tested.returncode != 0
    assert "slo:period_error_budget_remaining:ratio" in tested.stdout + tested.stderr


def test_error_budget_series_follow_sloth_names_and_labels():
    doc = yaml.safe_load((INFRA / "slo_rules.yml").read_text())
    budget = next(g for g in doc["groups"] if g["name"] == "slo-order-availability-budget")
    assert [r["record"] for r in budget["rules"]] == [
        "slo:objective:ratio", "slo:error_budget:ratio", "slo:time_period:days",
        "slo:current_burn_rate:ratio", "slo:period_burn_rate:ratio",
        "slo:period_error_budget_remaining:ratio"]
    assert budget["rules"][0]["expr"] == "vector(0.9995)"
    assert all(r["labels"]["sloth_id"] == "order-availability" and
               r["labels"]["sloth_service"] == "order" and
               r["labels"]["sloth_slo"] == "availability" for r in budget["rules"])
    recording = next(g for g in doc["groups"] if g["name"] == "slo-order-availability-recording")
    assert [r["labels"]["sloth_window"] for r in recording["rules"]] == [
        "5m", "30m", "1h", "2h", "6h", "1d", "3d", "30d"]


def test_a_three_day_slo_reuses_its_window_rule_for_the_period(tmp_path):
    spec = SimpleNamespace(service_slug="inventory", name="short", objective=Decimal("99"),
                           good_query='x_total{code="200"}', total_query="x_total",
                           window_days=3)
    path = tmp_path / "rules.yml"
    path.write_text(rules.dump([spec]))
    checked = _promtool("check", "rules", "rules.yml", cwd=tmp_path)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "slo:sli_error:ratio_rate3d{sloth_id" in path.read_text()
