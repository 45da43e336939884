"""The services served the production way: gunicorn's factory syntax on the WSGI entry
point (real gunicorn processes on free ports), and the background process type."""
from __future__ import annotations

import os
import signal
import subprocess

import pytest
import requests
from sqlalchemy import create_engine, text

from platform_services.common.jwt_auth import audience_of
from platform_services.common.messaging import Consumer
from platform_services.common.outbox import OutboxRelay
from platform_services.common.runner import PerProcess, background_command
from platform_services.registry import build
from tests.integration.services import gunicorn
from tests.integration.services.tokens import credentials
from tests.servers import wait_until

pytestmark = pytest.mark.integration


@pytest.fixture
def env(services_db, run_prefix, platform_auth):
    """The environment a deployed service gets, pointed at this run's servers."""
    return gunicorn.deployed_env(services_db, platform_auth.url, run_prefix, LOG_FORMAT="text",
                                 WEB_CONCURRENCY="2", GUNICORN_THREADS="4")


def test_gunicorn_serves_a_service_from_the_factory(env, platform_auth, tenant, services_db,
                                                    tmp_path):
    server = gunicorn.service("inventory", {**env, "API_USAGE_FLUSH_SECONDS": "3600"},
                              tmp_path / "gunicorn.log")
    try:
        assert requests.get(f"{server.url}/healthz", timeout=10).status_code == 200
        base = f"{server.url}/v1/tenants/{tenant[1]}"
        assert requests.put(base, json={"id": tenant[0], "name": tenant[1]},
                            timeout=10).status_code == 401
        token = credentials(platform_auth.url).token(audience_of("inventory"))
        auth = {"Authorization": f"Bearer {token}"}
        assert requests.put(base, json={"id": tenant[0], "name": tenant[1]}, headers=auth,
                            timeout=10).status_code == 200
        synced = requests.put(f"{base}/warehouses/us-east-1a/stock", headers=auth,
                              json={"items": [{"sku": "SKU-1", "on_hand": 5}]}, timeout=10)
        assert synced.status_code == 200, synced.text
        held = requests.post(f"{base}/reservations", headers=auth, timeout=10,
                             json={"reference": "gunicorn-1",
                                   "lines": [{"sku": "SKU-1", "quantity": 2}]})
        assert held.status_code == 201, held.text
        assert held.json()["reservations"][0]["quantity"] == 2
    finally:
        assert server.stop() == 0, server.log.read_text()[-2000:]
    # Each web worker counted its own requests and flushed them in worker_exit.
    engine = create_engine(services_db)
    with engine.connect() as conn:
        counted = conn.scalar(text(
            "SELECT coalesce(sum(requests), 0) FROM telemetry.api_requests "
            "WHERE tenant_id = :t AND service = 'inventory'"), {"t": tenant[0]})
    engine.dispose()
    assert counted == 2  # stock sync and reservation (registration has no <tenant> part)


def test_web_processes_run_per_process_workers_only(config, broker):
    order = build(config("order", rabbitmq_url=broker), log=False)
    try:
        assert {type(w) for w in order.background_workers} == {OutboxRelay, Consumer}
        assert [type(w) for w in order.web_workers] == [PerProcess]
    finally:
        order.close()


def test_the_background_process_runs_until_sigterm_and_stops_cleanly(env, broker, tmp_path):
    log = tmp_path / "background.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(background_command("order"),
                                env={**os.environ, **env, "RABBITMQ_URL": broker},
                                cwd=gunicorn.ROOT, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_until(lambda: "order background:" in log.read_text(), timeout=60,
                   what="order background", proc=proc, log=log)
        assert "outbox" in log.read_text().split("order background:")[1].splitlines()[0]
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(60) == 0, log.read_text()[-2000:]
    assert "order background stopped" in log.read_text()


def test_a_service_without_background_work_says_so_and_exits(env, tmp_path):
    done = subprocess.run(background_command("auth"),
                          env={**os.environ, **env, "LOG_LEVEL": "INFO"}, cwd=gunicorn.ROOT,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "auth has no background work" in done.stderr + done.stdout
