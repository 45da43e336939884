"""SLO benchmark: 50 SLOs x 30 days of per-minute samples (2.16 million rows) on PostgreSQL.

Measures the server time of the overview and detail pages (p95 over repeated requests
through the WSGI app, the database included) and compares the budget of one SLO, computed
by the portal, with a real Prometheus answering the equivalent queries over the same data
backfilled with `promtool tsdb create-blocks-from openmetrics` (the baseline of the ratio).

Both sides of that ratio are timed the same way, inside the server with no HTTP: the
portal's budget function in this process (its PostgreSQL queries included), and
Prometheus's own execution time of each query (`stats=all`, `execTotalTime`: queueing,
preparation, evaluation, sorting). Prometheus's round trip over HTTP is printed beside it.

Run: .venv/bin/python tests/bench/bench_slo.py [--days 30] [--slos 50]
"""
from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

import requests
from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from portal.app import create_app  # noqa: E402
from portal.auth import service as accounts  # noqa: E402
from portal.catalog import service as catalog  # noqa: E402
from portal.db import utcnow  # noqa: E402
from portal.extensions import db  # noqa: E402
from portal.integrations.prometheus import PrometheusClient  # noqa: E402
from portal.slo import samples, specs  # noqa: E402
from portal.slo import service as slo_service
from portal.slo.models import Slo  # noqa: E402
from tests.conftest import (  # noqa: E402
    FAST_ARGON2,
    TEST_PASSWORD,
    PortalClient,
    create_database,
    drop_database,
)
from tests.servers import free_port  # noqa: E402
from tests.servers import start as start_server

GENERATE = """
INSERT INTO slo_samples (slo_id, minute, good, total)
SELECT s.id, m, t - (t * (s.id % 7 + 1) / 4000), t
FROM unnest(CAST(:ids AS int[])) AS s(id),
     generate_series(CAST(:start AS timestamptz), CAST(:end AS timestamptz) - interval '1 minute',
                     interval '1 minute') AS m,
     LATERAL (SELECT (1000 + (extract(epoch FROM m)::bigint / 60 + s.id) % 400)::bigint AS t) x
"""


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[18]


def seed(app, days: int, n_slos: int, end) -> list[int]:
    with app.app_context(), db.session_scope() as session:
        team = catalog.upsert_team(session=session, slug="bench", name="Bench", chat_channel=None)
        ids = []
        for i in range(n_slos):
            svc = catalog.upsert_service(session=session, slug=f"bench-{i // 5}", team=team,
                                         name=f"Bench service {i // 5}")
            spec = specs.clean({"name": f"slo-{i}", "objective": "99.9",
                                "good_query": f'http_requests_total{{service="{svc.slug}",code="200"}}',
                                "total_query": f'http_requests_total{{service="{svc.slug}"}}'})
            ids.append(specs.create(session=session, service=svc, spec=spec).id)
        accounts.create(session=session, email="bench@bench.example", name="Bench",
                        password=TEST_PASSWORD, roles=["manager"], params=FAST_ARGON2)
        started = time.perf_counter()
        session.execute(text(GENERATE), {"ids": ids, "start": end - timedelta(days=days),
                                         "end": end})
        session.execute(text("INSERT INTO slo_sample_hours SELECT slo_id, date_trunc('hour', "
                             "minute), sum(good), sum(total) FROM slo_samples GROUP BY 1, 2"))
        session.execute(text("INSERT INTO slo_sample_days SELECT slo_id, date_trunc('day', hour, "
                             "'UTC'), sum(good), sum(total) FROM slo_sample_hours GROUP BY 1, 2"))
        rows = session.execute(text("SELECT count(*) FROM slo_samples")).scalar()
        print(f"seeded {rows:,} minute rows in {time.perf_counter() - started:.1f} s")
    with app.app_context():
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE slo_samples"))
            conn.execute(text("VACUUM ANALYZE slo_sample_hours"))
            conn.execute(text("VACUUM ANALYZE slo_sample_days"))
    return ids


def page_times(client, url: str, runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        response = client.get(url)
        times.append(time.perf_counter() - started)
        assert response.status_code == 200, response.status_code
    return times


def openmetrics(app, slo_id: int, slug: str, path: Path) -> None:
    """The SLO's samples as cumulative counters (good and bad series), one line per minute."""
    with app.app_context(), db.session_scope() as session:
        rows = session.execute(text("SELECT minute, good, total FROM slo_samples WHERE slo_id = "
                                    ":id ORDER BY minute"), {"id": slo_id}).all()
    with path.open("w") as out:
        out.write("# TYPE http_requests counter\n")
        for code, pick in (("200", lambda g, t: g), ("500", lambda g, t: t - g)):
            value = 0
            first = rows[0][0] - timedelta(minutes=1)
            out.write(f'http_requests_total{{service="{slug}",code="{code}"}} 0 '
                      f"{int(first.timestamp())}\n")
            for minute, good, total in rows:
                value += pick(good, total)
                at_end = int((minute + timedelta(minutes=1)).timestamp())  # reading after it
                out.write(f'http_requests_total{{service="{slug}",code="{code}"}} {value} '
                          f"{at_end}\n")
        out.write("# EOF\n")


def start_prometheus(tmp: Path, om: Path) -> tuple[subprocess.Popen, str]:
    subprocess.run(["promtool", "tsdb", "create-blocks-from", "openmetrics", str(om),
                    str(tmp / "data")], check=True, capture_output=True)
    (tmp / "prometheus.yml").write_text("global:\n  scrape_interval: 1m\n")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc = start_server(["prometheus", f"--config.file={tmp / 'prometheus.yml'}",
                         f"--storage.tsdb.path={tmp / 'data'}",
                         f"--web.listen-address=127.0.0.1:{port}",
                         "--storage.tsdb.retention.time=3650d"],
                        ready=f"{url}/-/ready", timeout=60, what="Prometheus")
    return proc, url


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--slos", type=int, default=50)
    parser.add_argument("--runs", type=int, default=40)
    args = parser.parse_args()
    url = create_database("_bench")
    tmp = Path(tempfile.mkdtemp(prefix="slo-bench-"))
    try:
        app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "TESTING": True,
                          "RATELIMIT_STORAGE_URI": "memory://", "REDIS_URL": None,
                          "INSTANCE_DIR": str(tmp / "instance"), "LOG_FORMAT": "text",
                          "LOG_LEVEL": "WARNING", "ARGON2_PARAMS": FAST_ARGON2})
        app.test_client_class = PortalClient
        end = samples.floor_hour(utcnow()) + timedelta(minutes=37)
        ids = seed(app, args.days, args.slos, end)
        client = app.test_client()
        client.post_form("/login", {"email": "bench@bench.example", "password": TEST_PASSWORD})
        page_times(client, "/slo/", 3)
        overview = page_times(client, "/slo/", args.runs)
        detail = page_times(client, f"/slo/{ids[0]}", args.runs)
        print(f"overview ({args.slos} SLOs): p95 {p95(overview) * 1000:.1f} ms "
              f"(target 100 ms, ratio {p95(overview) / 0.100:.2f})")
        print(f"detail: p95 {p95(detail) * 1000:.1f} ms "
              f"(target 150 ms, ratio {p95(detail) / 0.150:.2f})")
        compare_with_prometheus(app, ids[0], tmp, args)
    finally:
        drop_database(url)
        shutil.rmtree(tmp, ignore_errors=True)


def prometheus_exec_seconds(http: requests.Session, url: str, query: str,
                            at: datetime) -> float:
    """Prometheus's own execution time of `query` at `at` (its stats, not the round trip)."""
    response = http.get(f"{url}/api/v1/query", timeout=60,
                        params={"query": query, "time": at.timestamp(), "stats": "all"})
    response.raise_for_status()
    body = response.json()
    assert body["data"]["result"], f"no data for {query}"
    return float(body["data"]["stats"]["timings"]["execTotalTime"])


def compare_with_prometheus(app, slo_id: int, tmp: Path, args) -> None:
    with app.app_context():
        slo = db.session.get(Slo, slo_id)
        slug, now = slo.service.slug, samples.floor_minute(utcnow())
        openmetrics(app, slo_id, slug, tmp / "slo.om")
        proc, url = start_prometheus(tmp, tmp / "slo.om")
        try:
            client = PrometheusClient(url, timeout=60)
            http = requests.Session()
            window = f"{args.days}d"
            good = f'sum(increase(http_requests_total{{service="{slug}",code="200"}}[{window}]))'
            total = f'sum(increase(http_requests_total{{service="{slug}"}}[{window}]))'
            client.query(total, at=now)
            prom_http, prom_exec, portal = [], [], []
            for _ in range(args.runs):  # interleaved, so machine noise hits both
                started = time.perf_counter()
                client.query(good, at=now)
                client.query(total, at=now)
                prom_http.append(time.perf_counter() - started)
                prom_exec.append(prometheus_exec_seconds(http, url, good, now)
                                 + prometheus_exec_seconds(http, url, total, now))
                started = time.perf_counter()
                slo_service.evaluate(session=db.session, slos=[slo], now=now)
                portal.append(time.perf_counter() - started)
                db.session.expire_all()
        finally:
            proc.terminate()
            proc.wait(10)
    e_med, h_med, o_med = (statistics.median(prom_exec), statistics.median(prom_http),
                           statistics.median(portal))
    print(f"budget of one SLO, server time: portal median {o_med * 1000:.2f} ms (window + 7 "
          f"burn windows, in process); Prometheus median {e_med * 1000:.2f} ms (its execution "
          f"time of increase over {args.days}d, good + total)")
    print(f"ratio Prometheus / portal = {e_med / o_med:.2f} (>= 1 means the portal is at least "
          f"as fast); Prometheus over HTTP: {h_med * 1000:.2f} ms the two queries")


if __name__ == "__main__":
    main()
