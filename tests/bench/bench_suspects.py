"""The incident page with its suspect-change panel over 10,000 recorded changes, over HTTP
against gunicorn.

Run: .venv/bin/python tests/bench/bench_suspects.py [--changes 10000] [--requests 200]
     (needs PostgreSQL on 127.0.0.1:5432)

A throwaway database gets the demo data plus `--changes` recorded changes spread over the
last 7 days: nine in ten are self-service jobs (deploys, rollbacks, Ansible runs) on random
catalog entries, one in ten portal silences on a random entry's alerts. Two incidents
opened an hour ago: one on the Order Service (whose dependency subgraph holds many of the
changes) and one on a service nothing changed. The portal runs under gunicorn with
`gunicorn.conf.py`; a developer signs in through the login form, then GET /healthz (the
baseline), the quiet incident and the busy incident alternate, one request at a time, so a
change of machine load hits all three. Not run by CI.
"""
from __future__ import annotations

import argparse
import os
import random
import re
import secrets
import statistics
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

import requests
from sqlalchemy import insert, select

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from portal.app import create_app  # noqa: E402
from portal.auth.models import User  # noqa: E402
from portal.catalog.models import Service  # noqa: E402
from portal.db import utcnow  # noqa: E402
from portal.demo.seed import seed_demo  # noqa: E402
from portal.extensions import db  # noqa: E402
from portal.incidents import service as incidents  # noqa: E402
from portal.oncall.silence_ledger import LedgerSilence  # noqa: E402
from portal.selfservice.models import Job  # noqa: E402
from tests.conftest import FAST_ARGON2, create_database, drop_database  # noqa: E402
from tests.servers import free_port, running  # noqa: E402

EMAIL, PASSWORD = "dev@meridian.example", "dev-meridian-demo"
BUSY, QUIET = "order", "gatekeeper"  # gatekeeper: no dependencies, and left unchanged below


def _job(rnd: random.Random, service: Service, user_id: int, at) -> dict:
    kind = rnd.choice(("deploy", "deploy", "deploy", "rollback", "patch"))
    tier = rnd.choice(("staging", "prod"))
    tag = f"v{rnd.randint(1, 9)}.{rnd.randint(0, 40)}.{rnd.randint(0, 9)}"
    status = rnd.choice(("succeeded",) * 8 + ("failed", "running"))
    params = ({"group": "edge_us_east", "playbook": "upgrade"} if kind == "patch" else
              {"service": service.slug, "environment": tier, "image_tag": tag})
    return {"id": uuid.uuid4(), "template": {"deploy": "service-deploy",
                                             "rollback": "service-rollback",
                                             "patch": "edge-patching"}[kind],
            "action": kind, "tier": "prod" if kind == "patch" else tier, "target": "gitops",
            "params": params, "gate": "approval", "phase": "apply",
            "status": status,
            "service_id": service.id, "requested_by_id": user_id, "timeout_seconds": 1800,
            "created_at": at - timedelta(minutes=20), "updated_at": at,
            "started_at": at - timedelta(minutes=3),
            "finished_at": None if status == "running" else at,
            "plan": {"from": "v0.0.1", "to": tag}, "status_reason": None,
            "result": {"commit": secrets.token_hex(20), "previous_tag": "v0.0.1", "tag": tag},
            "cancel_requested": False}


def seed_changes(session, count: int) -> None:
    """`count` changes over the last 7 days: 90 % jobs, 10 % silences."""
    rnd = random.Random(7)
    now = utcnow()
    services = [s for s in session.scalars(select(Service)) if s.slug != QUIET]
    user_id = session.scalar(select(User.id).where(User.email == EMAIL))
    jobs, ledger = [], []
    for n in range(count):
        at = now - timedelta(minutes=rnd.randint(1, 7 * 24 * 60))
        service = rnd.choice(services)
        if n % 10 == 9:
            ledger.append({"silence_id": str(uuid.uuid4()), "starts_at": at,
                           "ends_at": at + timedelta(hours=rnd.randint(1, 24)),
                           "matchers": [{"name": "service", "value": service.slug,
                                         "isRegex": False, "isEqual": True}],
                           "created_by": EMAIL, "comment": "bench silence", "created_at": at})
        else:
            jobs.append(_job(rnd, service, user_id, at))
    session.execute(insert(Job), jobs)
    session.execute(insert(LedgerSilence), ledger)


def seed(database_url: str, count: int) -> tuple[int, int]:
    app = create_app({"DATABASE_URL": database_url, "SECRET_KEY": "b" * 40,
                      "CELERY_BROKER_URL": "memory://", "LOG_LEVEL": "WARNING"})
    with app.app_context(), db.session_scope() as session:
        seed_demo(session=session, argon2_params=FAST_ARGON2)
        seed_changes(session, count)
        opened = utcnow() - timedelta(hours=1)
        ids = [incidents.declare(session=session, title=f"Bench incident on {slug}",
                                 severity="sev2", actor_email=None, service_slugs=[slug],
                                 opened_at=opened).id for slug in (BUSY, QUIET)]
    with app.app_context(), db.engine.connect() as conn:
        conn.exec_driver_sql("ANALYZE")
        conn.commit()
    app.extensions["portal_db"].engine.dispose()
    return ids[0], ids[1]


def sign_in(http: requests.Session, url: str) -> None:
    page = http.get(f"{url}/login", timeout=30).text
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    done = http.post(f"{url}/login", data={"email": EMAIL, "password": PASSWORD,
                                           "csrf_token": token}, timeout=30,
                     allow_redirects=False)
    assert done.status_code == 303, done.status_code


def measure(url: str, paths: dict[str, str], count: int) -> tuple[dict[str, list[float]], int]:
    http = requests.Session()
    sign_in(http, url)
    out: dict[str, list[float]] = {name: [] for name in paths}
    for _ in range(5):  # warm-up
        for path in paths.values():
            http.get(f"{url}{path}", timeout=60).raise_for_status()
    for _ in range(count):
        for name, path in paths.items():
            start = time.perf_counter()
            http.get(f"{url}{path}", timeout=60).raise_for_status()
            out[name].append((time.perf_counter() - start) * 1000)
    shown = http.get(f"{url}{paths['busy']}", timeout=60).text.count('<tr class="suspect"')
    return out, shown


def p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[max(0, int(round(0.95 * len(ordered))) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--changes", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    database_url = create_database("_bench_suspects")
    try:
        started = time.perf_counter()
        busy, quiet = seed(database_url, args.changes)
        seeded = time.perf_counter() - started
        port = free_port()
        os.environ.update({"DATABASE_URL": database_url, "SECRET_KEY": "b" * 40,
                           "CELERY_BROKER_URL": "memory://", "LOG_LEVEL": "WARNING",
                           "GUNICORN_BIND": f"127.0.0.1:{port}", "GUNICORN_WORKERS": "2"})
        os.chdir(ROOT)
        url = f"http://127.0.0.1:{port}"
        paths = {"healthz": "/healthz", "quiet": f"/incidents/{quiet}",
                 "busy": f"/incidents/{busy}"}
        load_before = os.getloadavg()
        with tempfile.TemporaryDirectory() as tmp, running(
                [str(ROOT / ".venv/bin/gunicorn"), "-c", str(ROOT / "gunicorn.conf.py"),
                 "portal:create_app()"], ready=f"{url}/healthz", log=Path(tmp) / "g.log",
                timeout=120, what="gunicorn"):
            results, shown = measure(url, paths, args.requests)
        load_after = os.getloadavg()
    finally:
        drop_database(database_url)
    base = p95(results["healthz"])
    print(f"{args.changes:,} recorded changes seeded in {seeded:.1f} s; gunicorn.conf.py with "
          f"2 workers on {os.cpu_count()} cores; {args.requests} rounds, interleaved")
    print(f"load average before {load_before[0]:.2f} {load_before[1]:.2f}, "
          f"after {load_after[0]:.2f} {load_after[1]:.2f} (1 and 5 min)")
    labels = {"healthz": "GET /healthz (baseline)",
              "quiet": f"incident page, {QUIET}: no changes",
              "busy": f"incident page, {BUSY}: {shown} suspect rows"}
    for name, samples in results.items():
        print(f"{labels[name]:<42} p50 {statistics.median(samples):7.1f} ms  "
              f"p95 {p95(samples):7.1f} ms  ({p95(samples) / base:.1f}x the baseline p95)")


if __name__ == "__main__":
    main()
