"""RabbitMQ readiness per process: a gunicorn web process (its relay and consumers run in
the background process) reports whether the broker answers, not threads it never started;
a process running broker workers reports their connections. Real RabbitMQ, real gunicorn."""
from __future__ import annotations

import threading

import pytest
import requests

from platform_services.common.base import broker_check
from platform_services.common.jwt_auth import audience_of
from tests.integration.services import gunicorn
from tests.integration.services.servers import free_port
from tests.integration.services.tokens import credentials

pytestmark = pytest.mark.integration


class BrokerWorker(threading.Thread):
    """A worker thread of this process owning a `connected` flag, as relay and consumers."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.connected, self.done = threading.Event(), threading.Event()

    def run(self) -> None:
        self.done.wait(30)


def test_a_gunicorn_web_process_sees_the_broker_as_ok(services_db, run_prefix, broker,
                                                      platform_auth, tmp_path):
    env = gunicorn.deployed_env(services_db, platform_auth.url, run_prefix, RABBITMQ_URL=broker,
                                LOG_FORMAT="text", WEB_CONCURRENCY="1", GUNICORN_THREADS="2")
    server = gunicorn.service("inventory", env, tmp_path / "gunicorn.log")
    try:
        token = credentials(platform_auth.url).token(audience_of("inventory"))
        ready = requests.get(f"{server.url}/readyz", timeout=10,
                             headers={"Authorization": f"Bearer {token}"})
        assert ready.status_code == 200, ready.text
        assert ready.json()["checks"]["rabbitmq"] == "ok"
        assert ready.json()["status"] == "ok"
    finally:
        assert server.stop() == 0, server.log.read_text()[-2000:]


def test_without_workers_here_an_unreachable_broker_is_reported(config):
    closed = f"amqp://guest:guest@127.0.0.1:{free_port()}/%2F"
    idle = BrokerWorker()  # built but not started, as in a web process
    check = broker_check(config("inventory", rabbitmq_url=closed), [idle.connected], "outbox")
    reason = check.probe()
    assert reason is not None and reason.startswith("unreachable") and "outbox" in reason


def test_workers_running_here_are_judged_by_their_connections(config, broker):
    worker = BrokerWorker()
    worker.start()
    try:
        check = broker_check(config("inventory", rabbitmq_url=broker), [worker.connected],
                             "outbox")
        assert check.probe() == "disconnected (outbox)"  # the broker answers, they do not
        worker.connected.set()
        assert check.probe() is None
    finally:
        worker.done.set()
        worker.join(5)
