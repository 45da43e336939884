"""`portal dev` without Alertmanager and Prometheus installed: no servers, a reason to show."""
from pathlib import Path

from portal import dev_alerting


def test_missing_binaries_give_a_reason_and_no_settings(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty folder: neither binary is found
    stack = dev_alerting.start(dev_alerting.StackSpec(
        instance_dir=tmp_path, portal_address="127.0.0.1:5000",
        webhook_url="http://127.0.0.1:5000/oncall/alertmanager/webhook", services={}))
    assert stack.problem.startswith("prometheus-alertmanager and prometheus not installed")
    assert "scripts/bootstrap.sh" in stack.problem
    assert stack.env() == {} and stack.processes == []
    assert not (tmp_path / "alertmanager").exists()  # nothing was rendered or started
    stack.stop()  # nothing to stop: no error


def test_rule_files_leave_the_promtool_tests_out():
    names = [Path(p).name for p in dev_alerting.rule_files(dev_alerting.INFRA_DIR / "prometheus")]
    assert "slo_rules.yml" in names and not [n for n in names if n.endswith("_test.yml")]
