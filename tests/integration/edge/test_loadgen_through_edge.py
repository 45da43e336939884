"""`portal dev` points the load generator at the edge (portal/dev_edge.py): its traffic,
tokens included, goes through nginx to the services and gets through."""
from __future__ import annotations

import argparse
import json

import pytest

from platform_services import loadgen
from portal import dev_edge
from tests.integration.services import servers, tokens

pytestmark = [pytest.mark.integration,
              pytest.mark.skipif(dev_edge.binary() is None, reason="nginx is not installed "
                                 "(scripts/bootstrap.sh installs the Debian package)")]


def test_the_load_generator_gets_through_the_edge(config, run_service, tenant, platform_auth,
                                                  tmp_path, monkeypatch):
    inventory = run_service(config("inventory"))
    order = run_service(config("order", inventory_url=inventory.url))
    worker = run_service(config("worker"))
    edge = dev_edge.start(dev_edge.EdgeSpec(
        prefix=tmp_path / "edge", listen=f"127.0.0.1:{servers.free_port()}",
        auth_upstream=platform_auth.url.removeprefix("http://"),
        upstreams={name: svc.url.removeprefix("http://") for name, svc in
                   (("order", order), ("inventory", inventory), ("worker", worker))}))
    try:
        for name, value in tokens.service_credentials(platform_auth.url).items():
            if name != "auth_url":
                monkeypatch.setenv(f"SERVICE_{name.upper()}", value)
        parser = argparse.ArgumentParser()
        loadgen.add_arguments(parser)
        url = edge.service_url
        args = parser.parse_args([
            "--order-url", url("order"), "--inventory-url", url("inventory"),
            "--worker-url", url("worker"), "--auth-url", url("auth"),
            "--tenant", f"{tenant[1]}:{tenant[0]}", "--invalid-ratio", "0", "--seed", "7"])
        generator = loadgen.LoadGenerator(args)
        generator.setup()
        for _ in range(3):
            generator.tick()
    finally:
        edge.stop()
    assert generator.counts.get("201", 0) >= 3, generator.counts
    assert not {"401", "403", "429", "unreachable"} & set(generator.counts)
    lines = [json.loads(line) for line in edge.access_log.read_text().splitlines()]
    orders = [line for line in lines if line["uri"].startswith("/order/v1/")]
    assert orders and {line["subject"] for line in orders} == {tokens.PLATFORM_CLIENT}
    assert any(line["uri"] == "/auth/oauth/token" for line in lines)
