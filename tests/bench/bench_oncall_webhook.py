"""Alertmanager webhook ingestion over HTTP against the production server, with /healthz as
the baseline measured in the same run.

Run: .venv/bin/python tests/bench/bench_oncall_webhook.py [--rounds 5] [--batches 60]
     [--concurrency 4]   (needs PostgreSQL on 127.0.0.1:5432)

The portal runs under gunicorn with `gunicorn.conf.py` (gthread workers, as in production)
on a loopback port, against a fresh database with the demo catalog. Clients POST
Alertmanager-sized deliveries of 100 alerts in which half are repeats of already-known
fingerprints (Alertmanager re-sends whole groups), with every receiver connected: on-call's
upsert, the incidents domain's batch upsert, the audit entry, the commit. The alerts are
warnings, so they open no incident (the common case a flood of alerts is made of).
Each round runs a burst of GET /healthz and then a burst of webhook deliveries with the
same client concurrency; the rounds interleave, so a change of machine load hits both. The
load average before and after is printed, since the machine may be shared, and so is the
server's CPU time per request (gunicorn and the PostgreSQL backends of the bench database,
from psutil), which does not depend on what else runs. Target: >= 5,000 alerts/s. Not run
by CI.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

import psutil
import requests

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from portal.app import create_app  # noqa: E402
from portal.db import utcnow  # noqa: E402
from portal.demo.seed import seed_demo  # noqa: E402
from portal.extensions import db  # noqa: E402
from portal.integrations.alertmanager import iso  # noqa: E402
from tests.conftest import FAST_ARGON2, create_database, drop_database  # noqa: E402
from tests.servers import free_port, running  # noqa: E402

TOKEN = "bench-webhook-token"
BATCH = 100
TARGET = 5_000


def delivery(number: int) -> bytes:
    """Delivery `number`: the 50 newest fingerprints of the previous one again, 50 new."""
    now = iso(utcnow())
    ids = range(number * 50, number * 50 + BATCH)
    alerts = [{"status": "firing", "fingerprint": f"b{n:015x}",
               "labels": {"alertname": f"BenchAlert{n % 400}", "severity": "warning",
                          "service": ("order", "search", "inventory")[n % 3],
                          "instance": f"pod-{n % 97}"},
               "annotations": {"summary": "bench alert", "description": "x" * 80},
               "startsAt": now, "endsAt": "0001-01-01T00:00:00Z"} for n in ids]
    return json.dumps({"version": "4", "status": "firing", "receiver": "portal",
                       "groupKey": "{}:{alertname=\"Bench\"}", "alerts": alerts}).encode()


def burst(calls: list, concurrency: int, http: requests.Session) -> float:
    """Run the calls from `concurrency` client threads; requests per second."""
    def one(call) -> None:
        response = call(http)
        assert response.status_code == 200, response.text[:300]

    start = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(one, calls))
    return len(calls) / (time.perf_counter() - start)


def server_cpu(master_pid: int, database: str) -> float:
    """CPU seconds used so far by gunicorn (master and workers) and by the PostgreSQL
    backends serving the bench database (their process title names it)."""
    master = psutil.Process(master_pid)
    procs = [master, *master.children(recursive=True)]
    procs += [p for p in psutil.process_iter(["cmdline"])
              if p.info["cmdline"] and database in " ".join(p.info["cmdline"])
              and "postgres" in p.info["cmdline"][0]]
    total = 0.0
    for proc in procs:
        with contextlib.suppress(psutil.NoSuchProcess):
            times = proc.cpu_times()
            total += times.user + times.system
    return total


def measure(url: str, rounds: int, batches: int, concurrency: int,
            cpu) -> dict[str, list[float]]:
    """Interleaved rounds; per burst its request rate and the server CPU ms per request."""
    http = requests.Session()
    http.mount("http://", requests.adapters.HTTPAdapter(pool_maxsize=concurrency))
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
    numbers = iter(range(1, 1_000_000))
    burst([lambda s: s.get(f"{url}/healthz", timeout=30)] * 50, concurrency, http)  # warm-up
    first = delivery(0)
    burst([lambda s: s.post(f"{url}/oncall/alertmanager/webhook", data=first,
                            headers=headers, timeout=30)], 1, http)
    out: dict[str, list[float]] = {name: [] for name in ("healthz", "webhook", "healthz cpu",
                                                         "webhook cpu")}

    def timed(name: str, calls: list) -> None:
        before = cpu()
        out[name].append(burst(calls, concurrency, http))
        out[f"{name} cpu"].append((cpu() - before) * 1000 / len(calls))

    for _ in range(rounds):
        timed("healthz", [lambda s: s.get(f"{url}/healthz", timeout=30)] * (batches * 2))
        bodies = [delivery(next(numbers)) for _ in range(batches)]
        timed("webhook", [lambda s, b=b: s.post(f"{url}/oncall/alertmanager/webhook", data=b,
                                                headers=headers, timeout=30) for b in bodies])
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--batches", type=int, default=60, help="deliveries per round")
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args()
    database_url = create_database("_bench_webhook")
    try:
        app = create_app({"DATABASE_URL": database_url, "SECRET_KEY": "bench",
                          "CELERY_BROKER_URL": "memory://", "LOG_LEVEL": "WARNING"})
        with app.app_context(), db.session_scope() as session:
            seed_demo(session=session, argon2_params=FAST_ARGON2)
        app.extensions["portal_db"].engine.dispose()
        port = free_port()
        # The server reads its settings from the environment, as in production.
        os.environ.update({"DATABASE_URL": database_url, "SECRET_KEY": "bench",
                           "CELERY_BROKER_URL": "memory://", "LOG_LEVEL": "WARNING",
                           "ALERTMANAGER_WEBHOOK_TOKEN": TOKEN,
                           "GUNICORN_BIND": f"127.0.0.1:{port}"})
        os.chdir(ROOT)
        url = f"http://127.0.0.1:{port}"
        load_before = os.getloadavg()
        with tempfile.TemporaryDirectory() as tmp, running(
                [str(ROOT / ".venv/bin/gunicorn"), "-c", str(ROOT / "gunicorn.conf.py"),
                 "portal:create_app()"], ready=f"{url}/healthz", log=Path(tmp) / "gunicorn.log",
                timeout=120, what="gunicorn") as server:
            database = urlsplit(database_url).path.lstrip("/")
            results = measure(url, args.rounds, args.batches, args.concurrency,
                              lambda: server_cpu(server.pid, database))
        load_after = os.getloadavg()
    finally:
        drop_database(database_url)
    health, hook = statistics.median(results["healthz"]), statistics.median(results["webhook"])
    print(f"gunicorn.conf.py on {os.cpu_count()} cores, {args.concurrency} clients, "
          f"{args.rounds} interleaved rounds of {args.batches} deliveries of {BATCH} alerts")
    print(f"load average before {load_before[0]:.2f} {load_before[1]:.2f}, "
          f"after {load_after[0]:.2f} {load_after[1]:.2f} (1 and 5 min)")
    print(f"{'':28} {'median req/s':>13} {'rounds req/s':>34}")
    for name, samples in (("GET /healthz (baseline)", results["healthz"]),
                          ("POST webhook (100 alerts)", results["webhook"])):
        print(f"{name:28} {statistics.median(samples):13.0f} "
              f"{' '.join(f'{s:6.0f}' for s in samples):>34}")
    alerts_per_s = hook * BATCH
    print(f"webhook: {alerts_per_s:,.0f} alerts/s; a delivery costs {health / hook:.1f} "
          f"/healthz requests; target >= {TARGET:,} alerts/s "
          f"{'met' if alerts_per_s >= TARGET else 'NOT met'} on this machine as loaded")
    # Throughput on a shared machine depends on everyone else's load; the server's CPU per
    # request does not, and bounds what the same two cores give when they are not shared.
    health_cpu = statistics.median(results["healthz cpu"])
    hook_cpu = statistics.median(results["webhook cpu"])
    cores = os.cpu_count() or 1
    print(f"server CPU (gunicorn + PostgreSQL backends) per request: /healthz "
          f"{health_cpu:.2f} ms, webhook delivery {hook_cpu:.2f} ms "
          f"({hook_cpu / health_cpu:.1f} x); {cores} unshared cores would take "
          f"{cores * 1000 / hook_cpu * BATCH:,.0f} alerts/s")


if __name__ == "__main__":
    main()
