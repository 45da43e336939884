"""A real Celery worker process on the RabbitMQ broker, on its own committed database.

The worker consumes a queue unique to this test run, so parallel runs never steal each
other's tasks; the queue is deleted afterwards.
"""
from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from kombu import Connection

from portal.app import create_app
from portal.catalog import service as catalog
from portal.extensions import db
from tests.conftest import BROKER_URL, FAST_ARGON2, create_database, drop_database

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def worker_env(tmp_path_factory):
    """Database, queue and work dir shared by the test process and the worker."""
    url = create_database("_ssw")
    instance = tmp_path_factory.mktemp("ss-instance")
    env = {"DATABASE_URL": url, "CELERY_BROKER_URL": BROKER_URL,
           "CELERY_RESULT_BACKEND": "cache+memory://", "SECRET_KEY": "worker-test",
           "INSTANCE_DIR": str(instance), "SELFSERVICE_QUEUE": f"ss-test-{secrets.token_hex(4)}",
           "SELFSERVICE_HEARTBEAT_SECONDS": "1", "SELFSERVICE_WORKER_LOST_AFTER": "3",
           "LOG_FORMAT": "text", "REDIS_URL": ""}
    yield env
    with Connection(BROKER_URL) as conn:
        conn.default_channel.queue_delete(env["SELFSERVICE_QUEUE"])
    drop_database(url)


@pytest.fixture(scope="module")
def worker_app(worker_env):
    config = {"TESTING": True, "ARGON2_PARAMS": FAST_ARGON2, "AUDIT_ENFORCE": True,
              **{k: v for k, v in worker_env.items() if not k.startswith("SELFSERVICE_")},
              "SELFSERVICE_QUEUE": worker_env["SELFSERVICE_QUEUE"],
              "SELFSERVICE_HEARTBEAT_SECONDS": 1, "SELFSERVICE_WORKER_LOST_AFTER": 3,
              "REDIS_URL": None}
    app = create_app(config)
    with app.app_context():
        with db.session_scope() as session:
            team = catalog.upsert_team(session=session, slug="platform",
                                       name="Platform Engineering", chat_channel="#platform")
            catalog.upsert_service(session=session, slug="order", team=team,
                                   name="Order Service", kind="service", tier=1)
        yield app
    app.extensions["portal_db"].engine.dispose()


class Worker:
    """`celery worker` as a child process (solo pool by default), consuming only the test queue."""

    logs: list[Path] = []

    @classmethod
    def last_logs(cls) -> str:
        """The end of the most recent worker's log (for failure messages)."""
        return cls.logs[-1].read_text()[-4000:] if cls.logs else ""

    def tail(self) -> str:
        return self.log_path.read_text()[-4000:]

    def __init__(self, env: dict, log_path: Path, pool: tuple[str, ...] = ("--pool=solo",),
                 **extra_env):
        Worker.logs.append(log_path)
        self.pool = pool
        self.log_path = log_path
        self.env = {**os.environ, **env, **{k: str(v) for k, v in extra_env.items()}}
        self.process = None

    def start(self) -> Worker:
        self.log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "portal.celery_app", "worker",
             *self.pool, "--loglevel=INFO", "-Q", self.env["SELFSERVICE_QUEUE"],
             f"--hostname=ss-{secrets.token_hex(3)}@%h", "--without-mingle",
             "--without-gossip"],
            env=self.env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 60
        while b"ready." not in self.log_path.read_bytes():
            assert self.process.poll() is None, self.log_path.read_text()[-3000:]
            assert time.monotonic() < deadline, "worker did not become ready"
            time.sleep(0.2)
        return self

    def kill(self) -> None:
        """SIGKILL the worker's whole process group, as the OOM killer would."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.kill()
        self.log.close()


@pytest.fixture
def start_worker(worker_env, tmp_path):
    started = []

    def start(**extra_env) -> Worker:
        worker = Worker(worker_env, tmp_path / f"worker{len(started)}.log", **extra_env).start()
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()
