"""A report whose worker died does not stay 'running': the beat task fails it as
'worker lost' once it is older than TENANTS_REPORT_LOST_MINUTES and its build lock
(held by a live build on its own PostgreSQL connection) is free. Real PostgreSQL, and a
real process that holds the lock and is killed with SIGKILL."""
import signal
import subprocess
import sys
import time
from datetime import date, timedelta

import pytest
from sqlalchemy.engine import make_url

from portal.db import utcnow
from portal.extensions import db
from portal.tenants import build_lock, reports, tasks
from portal.tenants.models import Report

pytestmark = pytest.mark.integration

HOLDER = """
import sys, time, psycopg
conn = psycopg.connect(sys.argv[1], autocommit=True)
conn.execute("SELECT pg_advisory_lock(%s, %s)", (int(sys.argv[2]), int(sys.argv[3])))
print("locked", flush=True)
time.sleep(600)
"""


def _running_report(app, tenant_id: int, started_minutes_ago: int) -> int:
    with app.app_context(), db.session_scope() as session:
        report = reports.request(session=session, tenant_id=tenant_id, kind="usage",
                                 fmt="csv", date_from=date(2026, 1, 1),
                                 date_to=date(2026, 1, 31))
        session.info.pop("tenants_reports_to_send", None)  # no worker runs in this module
        report.status = "running"
        report.started_at = utcnow() - timedelta(minutes=started_minutes_ago)
        return report.id


def _status(app, report_id: int) -> tuple[str, str | None]:
    with app.app_context(), db.session_scope() as session:
        report = session.get(Report, report_id)
        return report.status, report.error


def _reap(app) -> list[int]:
    with app.app_context():
        return tasks.reap_lost_reports()


def _holder(app, report_id: int) -> subprocess.Popen:
    """A stand-in build process holding the report's lock, as a worker would."""
    url = make_url(app.config["DATABASE_URL"]).set(drivername="postgresql")
    proc = subprocess.Popen([sys.executable, "-c", HOLDER,
                             url.render_as_string(hide_password=False),
                             str(build_lock.LOCK_NAMESPACE), str(report_id)],
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "locked"
    return proc


def test_a_killed_worker_s_report_is_failed_as_worker_lost(live, tenant_with_viewer,
                                                          monkeypatch):
    app, _ = live
    monkeypatch.setitem(app.config, "TENANTS_REPORT_LOST_MINUTES", 10)
    tenant, _ = tenant_with_viewer()
    report_id = _running_report(app, tenant.id, started_minutes_ago=30)
    worker = _holder(app, report_id)
    try:
        assert report_id not in _reap(app)            # its worker is alive: keep waiting
        assert _status(app, report_id) == ("running", None)
    finally:
        worker.send_signal(signal.SIGKILL)            # the worker dies mid-build
        worker.wait(10)
    for _ in range(100):                              # PostgreSQL drops its lock
        if report_id in _reap(app):
            break
        time.sleep(0.05)
    status, error = _status(app, report_id)
    assert status == "failed" and error.startswith("worker lost")
    assert report_id not in _reap(app)                # failed once, then left alone


def test_a_recent_running_report_is_not_reaped(live, tenant_with_viewer, monkeypatch):
    app, _ = live
    monkeypatch.setitem(app.config, "TENANTS_REPORT_LOST_MINUTES", 10)
    tenant, _ = tenant_with_viewer()
    recent = _running_report(app, tenant.id, started_minutes_ago=2)
    old = _running_report(app, tenant.id, started_minutes_ago=11)
    lost = _reap(app)
    assert old in lost and recent not in lost
    assert _status(app, recent) == ("running", None)


def test_a_build_whose_lock_is_held_elsewhere_is_skipped(live, tenant_with_viewer):
    app, _ = live
    tenant, _ = tenant_with_viewer()
    with app.app_context(), db.session_scope() as session:
        report = reports.request(session=session, tenant_id=tenant.id, kind="usage",
                                 fmt="csv", date_from=date(2026, 1, 1),
                                 date_to=date(2026, 1, 31))
        session.info.pop("tenants_reports_to_send", None)
        report_id = report.id
    other = _holder(app, report_id)
    try:
        with app.app_context():
            assert tasks.build_report(report_id) == "skipped"
        assert _status(app, report_id) == ("queued", None)
    finally:
        other.kill()
        other.wait(10)
