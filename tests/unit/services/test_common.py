"""Common pieces without servers: config, probes, chunking, state machine, warehouse choice,
the portal-side metrics parsing."""
from __future__ import annotations

import pytest

from platform_services.common.app import Check, create_service_app
from platform_services.common.chunks import parts
from platform_services.common.config import ServiceConfig, from_env
from platform_services.common.observability import Metrics
from platform_services.fulfillment.service import pick_warehouse
from platform_services.orders.models import TRANSITIONS
from portal.integrations.services import _p99


def test_config_from_env_parses_types_and_requires_a_database():
    config = from_env("order", {"DATABASE_URL": "postgresql://x/y", "INVENTORY_TIMEOUT": "2.5",
                                "MAX_ATTEMPTS": "4", "REDIS_URL": ""})
    assert (config.port, config.inventory_timeout, config.max_attempts) == (8101, 2.5, 4)
    assert config.redis_url is None
    with pytest.raises(ValueError, match="DATABASE_URL"):
        from_env("order", {})
    with pytest.raises(ValueError, match="MAX_ATTEMPTS"):
        from_env("order", {"DATABASE_URL": "x", "MAX_ATTEMPTS": "three"})
    with pytest.raises(ValueError, match="unknown service"):
        from_env("shipping", {"DATABASE_URL": "x"})


def _app(critical_ok: bool, optional: str | None):
    def failing():
        raise ConnectionError("refused")
    checks = [Check("postgresql", (lambda: None) if critical_ok else failing),
              Check("rabbitmq", lambda: optional, critical=False)]
    return create_service_app("order", Metrics("order"), checks).test_client()


@pytest.mark.parametrize("critical_ok, optional, status, state, failed", [
    (True, None, 200, "ok", []),
    (True, "not configured (outbox)", 200, "ok", []),
    (True, "disconnected (outbox)", 200, "degraded", ["rabbitmq"]),
    (False, None, 503, "unavailable", ["postgresql"]),
])
def test_readyz_names_the_failed_dependency(critical_ok, optional, status, state, failed):
    response = _app(critical_ok, optional).get("/readyz")
    assert response.status_code == status
    assert response.json["status"] == state and response.json["failed"] == failed


def test_metrics_count_requests_by_route_template_and_echo_request_ids():
    client = _app(True, None)
    assert client.get("/nowhere/42", headers={"X-Request-ID": "abc-1"}).headers[
        "X-Request-ID"] == "abc-1"
    assert client.get("/nowhere/42").json["error"] == "not_found"
    text = client.get("/metrics").get_data(as_text=True)
    assert 'meridian_requests_total{code="404",method="GET",route="unmatched",' \
           'service="order"} 2.0' in text


def test_parts_join_small_pieces_into_bounded_parts():
    assert list(parts([b"ab", b"cd", b"e"], 3)) == [b"abcd", b"e"]
    assert list(parts([], 3)) == []


def test_state_machine_has_no_way_out_of_terminal_states():
    assert all("fulfilled" not in sources and "canceled" not in sources
               for sources in TRANSITIONS.values())
    assert TRANSITIONS["fulfilled"] == ("confirmed",)


def test_warehouse_with_most_units_wins_ties_alphabetically():
    assert pick_warehouse([{"warehouse": "b", "quantity": 2}, {"warehouse": "a", "quantity": 1},
                           {"warehouse": "a", "quantity": 1}]) == "a"
    assert pick_warehouse([{"warehouse": "z", "quantity": 5}]) == "z"


def test_p99_is_the_bucket_bound_holding_the_99th_percentile():
    assert _p99({0.1: 50.0, 0.25: 99.0, 0.5: 100.0, float("inf"): 100.0}) == 0.25
    assert _p99({float("inf"): 0.0}) is None


def test_service_config_prefixes_names():
    config = ServiceConfig(service="order", database_url="x", exchange_prefix="t1.")
    assert config.prefixed("orders.events") == "t1.orders.events"


def test_only_loading_reads_the_environment(monkeypatch):
    """A config built from values (tests, the dev server) ignores the process environment;
    `from_env` reads only the variables named by a setting."""
    monkeypatch.setenv("DATABASE_URL", "postgresql://x/y")
    monkeypatch.setenv("REDIS_URL", "redis://elsewhere:6379/0")
    monkeypatch.setenv("exchange_prefix", "t1.")  # a field's own name is not its variable
    assert ServiceConfig(service="order", database_url="x").redis_url is None
    loaded = from_env("order")
    assert (loaded.redis_url, loaded.exchange_prefix) == ("redis://elsewhere:6379/0", "")
    assert loaded.with_(redis_url=None).redis_url is None and loaded.redis_url


def test_every_service_setting_is_in_the_services_readme_table():
    """The README's configuration table is written by hand: this keeps it complete."""
    from pathlib import Path

    from platform_services.common.config import ServiceConfig
    from platform_services.common.settings import documented
    readme = (Path(__file__).resolve().parents[3] / "platform_services" / "README.md").read_text()
    missing = [name for name, _, _ in documented(ServiceConfig) if f"| `{name}` |" not in readme]
    assert missing == []

