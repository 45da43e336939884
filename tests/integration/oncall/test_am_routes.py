"""Alertmanager routing, checked with the real `amtool` and `promtool`: the generated SLO
burn-rate alerts reach the portal's webhook, in production and in `portal dev`'s rendering."""
import subprocess
from pathlib import Path

import pytest
import yaml

from portal import dev_alerting
from tests.integration.oncall.amserver import PRODUCTION_CONFIG

pytestmark = pytest.mark.integration
PROMETHEUS_DIR = dev_alerting.INFRA_DIR / "prometheus"


def receivers(config: Path, *labels: str) -> set[str]:
    """The receivers `amtool config routes test` names for an alert with `labels`."""
    result = subprocess.run(["amtool", "config", "routes", "test", f"--config.file={config}",
                             *labels], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stdout + result.stderr
    return set(result.stdout.strip().splitlines()[-1].split(","))


def alert_severities(prefix: str = "slo_") -> set[str]:
    """Every severity the alert rules of the `prefix` rule files put on their alerts."""
    found = set()
    for path in dev_alerting.rule_files(PROMETHEUS_DIR):
        if not path.name.startswith(prefix):
            continue
        for group in yaml.safe_load(path.read_text())["groups"]:
            found |= {rule["labels"]["severity"] for rule in group["rules"] if "alert" in rule}
    return found


def slo_alert_severities() -> set[str]:
    """Every severity the generated SLO alert rules put on their alerts."""
    return alert_severities("slo_")


@pytest.fixture
def dev_config(tmp_path) -> Path:
    """alertmanager.yml as `portal dev` renders it."""
    config = dev_alerting.render_alertmanager(
        PRODUCTION_CONFIG, webhook_url="http://127.0.0.1:5999/oncall/alertmanager/webhook",
        token_file=tmp_path / "token")
    (tmp_path / "token").write_text("dev-token")
    path = tmp_path / "alertmanager.yml"
    path.write_text(yaml.safe_dump(config))
    return path


def test_the_generated_slo_rules_use_page_and_ticket():
    assert slo_alert_severities() == {"page", "ticket"}


@pytest.mark.parametrize("config_kind", ["production", "dev"])
def test_slo_burn_alerts_route_to_the_portal_webhook(config_kind, dev_config):
    config = PRODUCTION_CONFIG if config_kind == "production" else dev_config
    for severity in slo_alert_severities():
        assert "portal" in receivers(config, "alertname=ErrorBudgetBurn", f"severity={severity}",
                                     "slo=order-availability", "service=order"), severity
    assert receivers(config, "alertname=ErrorBudgetBurn", "severity=page") == \
        {"portal", "email-digest"}
    assert receivers(config, "alertname=ErrorBudgetBurn", "severity=ticket") == \
        {"portal", "email-digest"}
    # Neither an info alert nor one of an unknown severity wakes anybody up.
    assert receivers(config, "alertname=DiskAlmostFull", "severity=info") == \
        {"chat", "email-digest"}
    assert "portal" not in receivers(config, "alertname=DiskAlmostFull", "severity=pager")


@pytest.mark.parametrize("config_kind", ["production", "dev"])
def test_dead_letter_alerts_route_to_the_portal_webhook(config_kind, dev_config):
    config = PRODUCTION_CONFIG if config_kind == "production" else dev_config
    assert alert_severities("dlq_") == {"warning", "ticket"}
    for severity in alert_severities("dlq_"):
        assert "portal" in receivers(config, "alertname=DeadLetterQueueGrowing",
                                     f"severity={severity}", "service=order"), severity


def test_the_dev_rendering_passes_amtool_and_calls_the_local_webhook(dev_config, tmp_path):
    result = subprocess.run(["amtool", "check-config", str(dev_config)], capture_output=True,
                            text=True, timeout=30)
    assert result.returncode == 0, result.stdout + result.stderr
    portal = next(r for r in yaml.safe_load(dev_config.read_text())["receivers"]
                  if r["name"] == "portal")
    hook = portal["webhook_configs"][0]
    assert hook["url"] == "http://127.0.0.1:5999/oncall/alertmanager/webhook"
    assert hook["http_config"]["authorization"]["credentials_file"] == str(tmp_path / "token")


def test_the_dev_prometheus_config_loads_the_slo_rules_and_passes_promtool(tmp_path):
    secret = tmp_path / "secret"
    secret.write_text("s3cret")
    oauth2 = {"client_id": "meridian-portal", "client_secret_file": str(secret),
              "token_url": "http://127.0.0.1:8106/oauth/token", "scopes": ["ops:read"]}
    config = dev_alerting.render_prometheus(
        PROMETHEUS_DIR / "prometheus.yml", rules=dev_alerting.rule_files(PROMETHEUS_DIR),
        alertmanager="127.0.0.1:5993", prometheus="127.0.0.1:5990", portal="127.0.0.1:5000",
        services={"order": "127.0.0.1:8101", "fulfillment": "127.0.0.1:8103"}, oauth2=oauth2)
    path = tmp_path / "prometheus.yml"
    path.write_text(yaml.safe_dump(config))
    result = subprocess.run(["promtool", "check", "config", str(path)], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "slo_rules.yml" in result.stdout and "SUCCESS" in result.stdout
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    assert jobs["portal"]["static_configs"] == [{"targets": ["127.0.0.1:5000"]}]
    # One job per service: each token names one service as its audience.
    order = jobs["platform-services-order"]
    assert order["static_configs"] == [{"targets": ["127.0.0.1:8101"]}]
    assert order["oauth2"]["endpoint_params"] == {"audience": "meridian-order"}
    assert order["oauth2"]["client_secret_file"] == str(secret)
    assert order["relabel_configs"] == [{"target_label": "job",
                                         "replacement": "platform-services"}]
    assert jobs["platform-services-fulfillment"]["oauth2"]["endpoint_params"] == \
        {"audience": "meridian-fulfillment"}
    assert config["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"] == \
        ["127.0.0.1:5993"]


def test_without_a_scrape_client_the_services_share_one_job():
    config = dev_alerting.render_prometheus(
        PROMETHEUS_DIR / "prometheus.yml", rules=[], alertmanager="127.0.0.1:5993",
        prometheus="127.0.0.1:5990", portal="127.0.0.1:5000",
        services={"order": "127.0.0.1:8101", "fulfillment": "127.0.0.1:8103"})
    jobs = {job["job_name"]: job["static_configs"][0]["targets"]
            for job in config["scrape_configs"]}
    assert jobs == {"portal": ["127.0.0.1:5000"], "prometheus": ["127.0.0.1:5990"],
                    "platform-services": ["127.0.0.1:8101", "127.0.0.1:8103"]}
