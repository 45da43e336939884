"""Latency of the home page with its status overview against /healthz, under gunicorn.

    .venv/bin/python tests/bench/bench_home_overview.py [--seconds 4] [--rounds 3] [--clients 4]

A throwaway database gets Meridian's demo data, then the catalog is filled up to 24 services,
each with an availability SLO carrying 30 days of hourly samples, and 90 days of deploy and
rollback history across them (a few a day). The portal runs under gunicorn with
`gunicorn.conf.py`; the demo admin (who sees every home panel) signs in through the login
form. Rounds interleave /healthz and / with `--clients` threads on keep-alive sessions for
`--seconds` each; the figures are p50/p95 of the request times per round and the median of
the rounds. The overview's own time (its one statement and the Python around it) is also
measured in process, apart from the rest of the page. The load average is printed before
each round. Not run by CI.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
import uuid
from datetime import timedelta
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select  # noqa: E402

from portal.app import create_app  # noqa: E402
from portal.auth.models import User  # noqa: E402
from portal.catalog.models import Service, Team  # noqa: E402
from portal.db import utcnow  # noqa: E402
from portal.extensions import db  # noqa: E402
from portal.home import overview  # noqa: E402
from portal.selfservice.models import Job  # noqa: E402
from portal.slo import samples  # noqa: E402
from portal.slo.models import Slo  # noqa: E402
from portal.slo.samples import MinuteSample  # noqa: E402
from tests.bench.bench_pages import EMAIL, UA, sign_in  # noqa: E402
from tests.bench.bench_pages import seed as seed_demo_data  # noqa: E402
from tests.conftest import create_database, drop_database  # noqa: E402
from tests.servers import free_port, running  # noqa: E402

SERVICES = 24
HISTORY_DAYS = 90
DEPLOYS_PER_DAY = 6


def seed(database_url: str) -> dict:
    seed_demo_data(database_url)
    app = create_app({"DATABASE_URL": database_url, "SECRET_KEY": "b" * 40,
                      "CELERY_BROKER_URL": "memory://", "LOG_LEVEL": "WARNING"})
    now = utcnow()
    with app.app_context(), db.session_scope() as session:
        team = session.scalar(select(Team).limit(1))
        have = session.scalar(select(func.count()).select_from(Service)
                              .where(Service.kind == "service"))
        for i in range(max(0, SERVICES - have)):
            session.add(Service(slug=f"bench-{i}", name=f"Bench {i}", kind="service", tier=3,
                                team=team, purpose="Benchmark entry"))
        session.flush()
        services = list(session.scalars(select(Service).where(Service.kind == "service")))
        for svc in services:
            slo = Slo(service_id=svc.id, name="bench-availability", sli_kind="ratio",
                      objective="99.5", good_query="good", total_query="total")
            session.add(slo)
            session.flush()
            samples.record(session=session, slo_id=slo.id, samples=[
                MinuteSample(now - timedelta(hours=h), 9990, 10000) for h in range(1, 24 * 30)])
        admin = session.scalar(select(User).where(User.email == EMAIL))
        jobs = 0
        for n in range(HISTORY_DAYS * DEPLOYS_PER_DAY):
            svc = services[n % len(services)]
            rollback = n % 17 == 0
            session.add(Job(
                id=uuid.uuid4(), template="service-rollback" if rollback else "service-deploy",
                action="rollback" if rollback else "deploy", tier="prod", target=svc.slug,
                gate="confirm", status="failed" if n % 23 == 0 else "succeeded",
                service_id=svc.id, requested_by_id=admin.id,
                finished_at=now - timedelta(hours=24 * HISTORY_DAYS * n
                                            / (HISTORY_DAYS * DEPLOYS_PER_DAY)),
                params={"service": svc.slug, "environment": "prod", "image_tag": f"v1.{n}"},
                result={"tag": f"v1.{n}"}))
            jobs += 1
    with app.app_context(), db.session_scope() as session:
        overview.overview(session=session)  # the latency probe's cache, the values files
        spent = []
        for _ in range(20):
            started = time.perf_counter()
            overview.overview(session=session)
            spent.append((time.perf_counter() - started) * 1000)
    app.extensions["portal_db"].engine.dispose()
    return {"services": len(services), "jobs": jobs, "overview_ms": statistics.median(spent)}


def timed(url: str, cookie: str, clients: int, seconds: float) -> list[float]:
    """Request times (ms) of `clients` threads, each on its own keep-alive session."""
    times: list[float] = []
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def worker():
        http = requests.Session()
        http.headers.update({"Cookie": cookie, "User-Agent": UA})
        mine = []
        while time.monotonic() < stop:
            started = time.perf_counter()
            answer = http.get(url, timeout=30, allow_redirects=False)
            mine.append((time.perf_counter() - started) * 1000)
            assert answer.status_code == 200, (url, answer.status_code)
        with lock:
            times.extend(mine)
    threads = [threading.Thread(target=worker) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return times


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[18]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--clients", type=int, default=4)
    args = parser.parse_args()
    database_url = create_database("_bench_home_overview")
    try:
        seeded = seed(database_url)
        port = free_port()
        os.environ.update({"DATABASE_URL": database_url, "SECRET_KEY": "b" * 40,
                           "CELERY_BROKER_URL": "memory://", "LOG_LEVEL": "WARNING",
                           "GUNICORN_BIND": f"127.0.0.1:{port}"})
        os.chdir(ROOT)
        url = f"http://127.0.0.1:{port}"
        rows = []
        with tempfile.TemporaryDirectory() as tmp, running(
                [str(ROOT / ".venv/bin/gunicorn"), "-c", str(ROOT / "gunicorn.conf.py"),
                 "portal:create_app()"], ready=f"{url}/healthz", log=Path(tmp) / "g.log",
                timeout=120, what="gunicorn"):
            cookie = sign_in(url)
            page = requests.get(url + "/", headers={"Cookie": cookie, "User-Agent": UA},
                                timeout=60).text
            assert 'id="home-overview"' in page and page.count("data-service=") == seeded["services"], \
                "the overview did not render the seeded fleet"
            timed(url + "/", cookie, args.clients, 1)  # warm every worker
            for n in range(args.rounds):
                load = os.getloadavg()
                base = timed(url + "/healthz", cookie, args.clients, args.seconds)
                home = timed(url + "/", cookie, args.clients, args.seconds)
                rows.append((load[0], p95(base), p95(home), statistics.median(home),
                             len(home) / args.seconds))
                print(f"round {n + 1}: load {load[0]:.2f}  /healthz p95 {rows[-1][1]:.1f} ms"
                      f"  / p50 {rows[-1][3]:.1f} ms p95 {rows[-1][2]:.1f} ms"
                      f"  ({rows[-1][4]:.1f} req/s)", flush=True)
    finally:
        drop_database(database_url)
    print(f"\n{seeded['services']} services, {seeded['jobs']} deploys over {HISTORY_DAYS} days,"
          f" {args.clients} clients, {args.rounds} rounds of {args.seconds:g} s, "
          f"{os.cpu_count()} cores; the overview itself (one statement) "
          f"{seeded['overview_ms']:.1f} ms in process (median of 20)")
    print(f"median over rounds: /healthz p95 {statistics.median(r[1] for r in rows):.1f} ms; "
          f"/ p50 {statistics.median(r[3] for r in rows):.1f} ms, "
          f"p95 {statistics.median(r[2] for r in rows):.1f} ms, "
          f"{statistics.median(r[4] for r in rows):.1f} req/s; "
          f"load average {min(r[0] for r in rows):.2f}-{max(r[0] for r in rows):.2f}")


if __name__ == "__main__":
    main()
