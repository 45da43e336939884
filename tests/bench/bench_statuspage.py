"""A tenant's status page with 10,000 historical incidents, over HTTP against gunicorn.

Run: .venv/bin/python tests/bench/bench_statuspage.py [--incidents 10000] [--requests 200]
     (needs PostgreSQL on 127.0.0.1:5432)

A throwaway database gets the demo data plus `--incidents` customer-facing incidents spread
over the last two years (a third linked to Acme Retail, a third to every tenant, a third to
another tenant), each on one of the tenant-facing services with one customer update. The
portal runs under gunicorn with `gunicorn.conf.py`; the Acme viewer signs in through the
login form, then GET /status/acme-retail and GET /healthz (the baseline) alternate, one
request each at a time, so a change of machine load hits both. Not run by CI.
"""
from __future__ import annotations

import argparse
import os
import random
import re
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import requests
from sqlalchemy import select

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from portal.app import create_app  # noqa: E402
from portal.auth.models import Tenant  # noqa: E402
from portal.catalog.models import Service  # noqa: E402
from portal.db import utcnow  # noqa: E402
from portal.demo.seed import seed_demo  # noqa: E402
from portal.extensions import db  # noqa: E402
from portal.incidents.models import CustomerUpdate, Incident, IncidentTenant  # noqa: E402
from tests.conftest import FAST_ARGON2, create_database, drop_database  # noqa: E402
from tests.servers import free_port, running  # noqa: E402

TENANT, EMAIL, PASSWORD = "acme-retail", "viewer@acme-retail.example", "viewer-acme-retail-demo"


def seed_history(session, count: int) -> None:
    """`count` resolved customer-facing incidents over two years, with one update each."""
    rnd = random.Random(7)
    tenants = {t.slug: t for t in session.scalars(select(Tenant))}
    acme, other = tenants[TENANT], next(t for s, t in tenants.items() if s != TENANT)
    services = list(session.scalars(select(Service).where(Service.kind == "service")))
    now = utcnow()
    for n in range(count):
        opened = now - timedelta(minutes=rnd.randint(60, 730 * 24 * 60))
        incident = Incident(title=f"Bench incident {n}", severity=rnd.choice(["sev1", "sev2", "sev3"]),
                            status="resolved", customer_facing=True, opened_at=opened,
                            resolved_at=opened + timedelta(minutes=rnd.randint(5, 240)),
                            services=[rnd.choice(services)])
        session.add(incident)
        session.flush()
        if n % 3 == 0:
            session.add(IncidentTenant(incident_id=incident.id, tenant_id=acme.id))
        elif n % 3 == 1:
            session.add(IncidentTenant(incident_id=incident.id, tenant_id=other.id))
        session.add(CustomerUpdate(incident_id=incident.id, status="resolved",
                                   message="Resolved; all systems normal."))
        if n % 1000 == 999:
            session.flush()


def sign_in(http: requests.Session, url: str) -> None:
    page = http.get(f"{url}/login", timeout=30).text
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    done = http.post(f"{url}/login", data={"email": EMAIL, "password": PASSWORD,
                                           "csrf_token": token}, timeout=30,
                     allow_redirects=False)
    assert done.status_code == 303, done.status_code


def measure(url: str, count: int) -> dict[str, list[float]]:
    http = requests.Session()
    sign_in(http, url)
    out: dict[str, list[float]] = {"healthz": [], "status": []}
    for _ in range(5):  # warm-up
        http.get(f"{url}/status/{TENANT}", timeout=60).raise_for_status()
    for _ in range(count):
        for name, path in (("healthz", "/healthz"), ("status", f"/status/{TENANT}")):
            start = time.perf_counter()
            http.get(f"{url}{path}", timeout=60).raise_for_status()
            out[name].append((time.perf_counter() - start) * 1000)
    return out


def p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[max(0, int(round(0.95 * len(ordered))) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    database_url = create_database("_bench_status")
    try:
        app = create_app({"DATABASE_URL": database_url, "SECRET_KEY": "b" * 40,
                          "CELERY_BROKER_URL": "memory://", "LOG_LEVEL": "WARNING"})
        started = time.perf_counter()
        with app.app_context(), db.session_scope() as session:
            seed_demo(session=session, argon2_params=FAST_ARGON2)
            seed_history(session, args.incidents)
        seeded = time.perf_counter() - started
        app.extensions["portal_db"].engine.dispose()
        port = free_port()
        os.environ.update({"DATABASE_URL": database_url, "SECRET_KEY": "b" * 40,
                           "CELERY_BROKER_URL": "memory://", "LOG_LEVEL": "WARNING",
                           "GUNICORN_BIND": f"127.0.0.1:{port}", "GUNICORN_WORKERS": "2"})
        os.chdir(ROOT)
        url = f"http://127.0.0.1:{port}"
        load_before = os.getloadavg()
        with tempfile.TemporaryDirectory() as tmp, running(
                [str(ROOT / ".venv/bin/gunicorn"), "-c", str(ROOT / "gunicorn.conf.py"),
                 "portal:create_app()"], ready=f"{url}/healthz", log=Path(tmp) / "g.log",
                timeout=120, what="gunicorn"):
            results = measure(url, args.requests)
        load_after = os.getloadavg()
    finally:
        drop_database(database_url)
    health, status = results["healthz"], results["status"]
    print(f"{args.incidents:,} historical incidents seeded in {seeded:.1f} s; gunicorn.conf.py "
          f"with 2 workers on {os.cpu_count()} cores; {args.requests} requests each, alternating")
    print(f"load average before {load_before[0]:.2f} {load_before[1]:.2f}, "
          f"after {load_after[0]:.2f} {load_after[1]:.2f} (1 and 5 min)")
    print(f"GET /healthz (baseline)    p50 {statistics.median(health):7.1f} ms  "
          f"p95 {p95(health):7.1f} ms")
    print(f"GET /status/{TENANT}   p50 {statistics.median(status):7.1f} ms  "
          f"p95 {p95(status):7.1f} ms  ({p95(status) / p95(health):.1f}x the baseline p95)")


if __name__ == "__main__":
    main()
