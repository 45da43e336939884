"""The load generator drives real services with its own client-credentials tokens."""
from __future__ import annotations

import argparse

import pytest

from platform_services import loadgen
from tests.integration.services import tokens

pytestmark = pytest.mark.integration


def test_loadgen_registers_stocks_and_orders_with_tokens(config, run_service, tenant,
                                                         platform_auth, monkeypatch):
    inventory = run_service(config("inventory"))
    order = run_service(config("order", inventory_url=inventory.url))
    worker = run_service(config("worker"))
    for name, value in tokens.service_credentials(platform_auth.url).items():
        if name != "auth_url":
            monkeypatch.setenv(f"SERVICE_{name.upper()}", value)
    parser = argparse.ArgumentParser()
    loadgen.add_arguments(parser)
    args = parser.parse_args([
        "--order-url", order.url, "--inventory-url", inventory.url, "--worker-url", worker.url,
        "--auth-url", platform_auth.url, "--tenant", f"{tenant[1]}:{tenant[0]}",
        "--invalid-ratio", "0", "--seed", "7"])
    generator = loadgen.LoadGenerator(args)
    generator.setup()
    for _ in range(5):
        generator.tick()
    assert generator.counts.get("201", 0) >= 5  # every tick created its order
    assert not {"401", "403", "unreachable"} & set(generator.counts)


def test_loadgen_without_credentials_gets_nothing_through(config, run_service, tenant,
                                                          platform_auth, monkeypatch):
    order = run_service(config("order"))
    monkeypatch.delenv("SERVICE_CLIENT_ID", raising=False)
    parser = argparse.ArgumentParser()
    loadgen.add_arguments(parser)
    args = parser.parse_args(["--order-url", order.url, "--auth-url", platform_auth.url,
                              "--tenant", f"{tenant[1]}:{tenant[0]}"])
    generator = loadgen.LoadGenerator(args)
    generator.tick()
    assert generator.counts == {"unreachable": 1}  # no token: the call is never made
