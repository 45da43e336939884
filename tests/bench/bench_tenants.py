"""Tenant dashboards and reports benchmark: 400 tenants, 10 million orders (the target size).

Run: .venv/bin/python tests/bench/bench_tenants.py [--orders 10000000] [--largest 1000000]
Needs PostgreSQL on 127.0.0.1:5432 and moto_server in the venv. About half an hour on two
cores, most of it loading the data; `--orders 2000000` runs in about ten minutes.

The largest tenant has 1 million of the orders (so its CSV report is the 1-million-row one
of the target); the rest are spread over the other 399. It prints:
  * the dashboard server time (p50/p95) for the largest tenant over 366 days, cache off,
    against the baseline of the same aggregates computed straight from the orders tables;
  * the initial rollup backfill time and an incremental refresh after 1,000 changed orders;
  * peak RSS of a process building the 1M-row CSV report streamed to S3 (moto), of one
    building a 100k-row report (flat memory = about the same), and of a naive build that
    fetches all rows and writes the CSV in memory (the baseline).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from sqlalchemy import create_engine, text  # noqa: E402

from platform_services.common import migrate as services_migrate  # noqa: E402
from portal.app import create_app  # noqa: E402
from portal.extensions import db  # noqa: E402
from portal.tenants import dashboard, rollups  # noqa: E402
from tests.conftest import create_database, drop_database  # noqa: E402
from tests.integration.tenants import servers  # noqa: E402

ROUNDS = 60
LARGEST = 1


def populate(url: str, *, orders: int, largest: int) -> None:
    """400 tenants; `largest` orders for tenant 1 and the rest spread over the others."""
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("""
            INSERT INTO tenants (id, slug, name, plan, region, sla_target)
            SELECT i, 'bench-' || i, 'Bench ' || i, 'growth', 'us', 99.9
            FROM generate_series(1, 400) i"""))
        for schema in ("orders", "inventory"):
            conn.execute(text(f"INSERT INTO {schema}.tenants (id, slug, name) "
                              "SELECT id, slug, name FROM tenants"))
        conn.execute(text("""
            INSERT INTO orders.orders (id, tenant_id, status, customer_ref, total_quantity,
                                       created_at, updated_at)
            SELECT gen_random_uuid(),
                   CASE WHEN i <= :largest THEN 1 ELSE 2 + (i % 399) END,
                   (ARRAY['fulfilled','fulfilled','fulfilled','fulfilled','fulfilled',
                          'fulfilled','fulfilled','canceled','confirmed','pending'])[1 + i % 10],
                   'c-' || (i % 1000), 1 + i % 5,
                   now() - make_interval(secs => (i::bigint * 7919 % 31536000)),
                   now() - make_interval(secs => (i::bigint * 7919 % 31536000)) + make_interval(secs => 60 + i % 400)
            FROM generate_series(1, :n) i"""), {"n": orders, "largest": largest})
        conn.execute(text("""
            INSERT INTO orders.order_lines (order_id, sku, quantity, warehouse)
            SELECT id, 'SKU-' || (total_quantity * 17), total_quantity,
                   (ARRAY['newark','reno','dublin'])[1 + (abs(hashtext(id::text)) % 3)]
            FROM orders.orders"""))
        conn.execute(text("""
            INSERT INTO fulfillment.shipments (tenant_id, tenant, order_id, warehouse, carrier,
                                               status, confirmed_at, created_at, updated_at)
            SELECT o.tenant_id, 'x', o.id, l.warehouse, 'ups', 'shipped', o.created_at,
                   o.created_at, o.updated_at
            FROM orders.orders o JOIN orders.order_lines l ON l.order_id = o.id
            WHERE o.status = 'fulfilled'"""))
        # API traffic: hourly counts of four services for every tenant, the largest busiest.
        conn.execute(text("""
            INSERT INTO telemetry.api_requests (tenant_id, hour, service, requests,
                                                client_errors, server_errors)
            SELECT t, date_trunc('hour', now()) - make_interval(hours => h), svc,
                   CASE WHEN t = 1 THEN 5000 ELSE 50 END + (h * 7 + t) % 97,
                   (h + t) % 13, CASE WHEN h % 500 = 0 THEN 40 ELSE (h * t) % 3 END
            FROM generate_series(1, 400) t, generate_series(0, 366 * 24 - 1, 6) h,
                 unnest(ARRAY['order', 'inventory', 'search', 'auth']) svc"""))
        conn.execute(text("""
            INSERT INTO inventory.stock (tenant_id, sku, warehouse, on_hand, reserved)
            SELECT t, 'SKU-' || s, 'newark', (t * s) % 300, 0
            FROM generate_series(1, 400) t, generate_series(1, 50) s"""))
        conn.execute(text("ANALYZE"))
    engine.dispose()


BASELINE_SQL = text("""
    SELECT (o.created_at AT TIME ZONE 'UTC')::date AS day, o.status, count(*),
           sum(o.total_quantity)
    FROM orders.orders o WHERE o.tenant_id = :t AND o.created_at >= :start
    GROUP BY 1, 2;
""")
BASELINE_FULFILLMENT = text("""
    SELECT (o.created_at AT TIME ZONE 'UTC')::date,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM o.updated_at - s.confirmed_at)),
           percentile_cont(0.95) WITHIN GROUP (ORDER BY extract(epoch FROM o.updated_at - s.confirmed_at))
    FROM orders.orders o JOIN fulfillment.shipments s ON s.order_id = o.id
    WHERE o.tenant_id = :t AND o.status = 'fulfilled' AND o.created_at >= :start GROUP BY 1""")


def p(samples, q):
    return statistics.quantiles(samples, n=100)[q - 1]


def time_dashboard(app, rounds: int) -> tuple[list[float], list[float], list[float]]:
    today = date.today()
    filters = dashboard.Filters(today - timedelta(days=365), today, None)
    client = app.test_client()
    rollup_ms, baseline_ms, page_ms = [], [], []
    with app.app_context():
        with db.session_scope() as session:
            conn = session.connection()
            for _ in range(rounds):
                t0 = time.perf_counter()
                dashboard.compute_aggregates(conn, tenant_id=LARGEST, filters=filters, today=today)
                rollup_ms.append((time.perf_counter() - t0) * 1000)
            for _ in range(max(5, rounds // 6)):  # the baseline is slow: fewer rounds
                t0 = time.perf_counter()
                start = {"t": LARGEST, "start": filters.date_from}
                conn.execute(BASELINE_SQL, start).all()
                conn.execute(BASELINE_FULFILLMENT, start).all()
                baseline_ms.append((time.perf_counter() - t0) * 1000)
    login(app, client)
    url = f"/tenants/bench-{LARGEST}/dashboard?from={filters.date_from}&to={filters.date_to}"
    for _ in range(rounds):
        t0 = time.perf_counter()
        assert client.get(url).status_code == 200
        page_ms.append((time.perf_counter() - t0) * 1000)
    return rollup_ms, baseline_ms, page_ms


def login(app, client) -> None:
    from portal.auth import service as accounts
    from tests.conftest import FAST_ARGON2
    with app.app_context(), db.session_scope() as session:
        accounts.create(session=session, email="bench@bench.example", name="Bench",
                        password="bench password 123", roles=["manager"], params=FAST_ARGON2)
    page = client.get("/login").get_data(as_text=True)
    token = page.split('name="csrf-token" content="')[1].split('"')[0]
    response = client.post("/login", data={"email": "bench@bench.example",
                                           "password": "bench password 123",
                                           "csrf_token": token})
    assert response.status_code == 303


def report_rss(url: str, s3: str, tenant: int, mode: str) -> dict:
    """Build one orders CSV in a fresh process; returns its rows, seconds and peak RSS."""
    out = subprocess.run([sys.executable, str(Path(__file__).with_name("bench_tenants_report.py")),
                          url, s3, str(tenant), mode], capture_output=True, text=True)
    if out.returncode:
        raise RuntimeError(out.stderr[-3000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=10_000_000)
    parser.add_argument("--largest", type=int, default=1_000_000)
    args = parser.parse_args()
    url = create_database("_bench_tenants")
    try:
        services_migrate.upgrade(url)
        t0 = time.perf_counter()
        populate(url, orders=args.orders, largest=args.largest)
        print(f"populated {args.orders:,} orders for 400 tenants in {time.perf_counter() - t0:.0f} s")
        app = create_app({"DATABASE_URL": url, "TENANTS_CACHE_SECONDS": 0, "TESTING": True,
                          "SECRET_KEY": "bench", "REDIS_URL": None,
                          "RATELIMIT_STORAGE_URI": "memory://", "LOG_FORMAT": "text"})
        with app.app_context():
            with db.session_scope() as session:
                t0 = time.perf_counter()
                rollups.refresh(session=session, source=session.connection(), low_stock_threshold=10)
                print(f"rollup backfill: {time.perf_counter() - t0:.1f} s")
            engine = create_engine(url)
            with engine.begin() as conn:
                conn.execute(text("UPDATE orders.orders SET status = 'canceled', updated_at = now() "
                                  "WHERE id IN (SELECT id FROM orders.orders WHERE status = 'pending' LIMIT 1000)"))
            engine.dispose()
            with db.session_scope() as session:
                t0 = time.perf_counter()
                result = rollups.refresh(session=session, source=session.connection(),
                                         low_stock_threshold=10)
                print(f"incremental refresh after 1,000 changed orders: "
                      f"{time.perf_counter() - t0:.1f} s ({result.days_recomputed} tenant-days)")
        # What autovacuum does soon after a bulk load; timing before it measures its I/O.
        engine = create_engine(url, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text("VACUUM ANALYZE"))
        engine.dispose()
        rollup_ms, baseline_ms, page_ms = time_dashboard(app, ROUNDS)
        print(f"dashboard aggregates from rollups, largest tenant, 366 days: "
              f"p50 {p(rollup_ms, 50):.1f} ms, p95 {p(rollup_ms, 95):.1f} ms")
        print(f"baseline (same aggregates from the orders tables): "
              f"p50 {p(baseline_ms, 50):.1f} ms, p95 {p(baseline_ms, 95):.1f} ms")
        print(f"ratio baseline p95 / rollup p95: {p(baseline_ms, 95) / p(rollup_ms, 95):.0f}x")
        print(f"dashboard page server time (charts + HTML, cache off): "
              f"p50 {p(page_ms, 50):.1f} ms, p95 {p(page_ms, 95):.1f} ms")
        with servers.moto_s3() as s3:
            small = 2  # a tenant of the long tail
            for label, tenant, mode in [("streamed, largest tenant", LARGEST, "stream"),
                                        ("streamed, small tenant", small, "stream"),
                                        ("naive in-memory baseline, largest", LARGEST, "naive")]:
                r = report_rss(url, s3, tenant, mode)
                print(f"CSV report {label}: {r['rows']:,} rows, {r['seconds']:.1f} s, "
                      f"peak RSS {r['peak_rss_mb']:.0f} MB")
        app.extensions["portal_db"].engine.dispose()
    finally:
        drop_database(url)


if __name__ == "__main__":
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    main()
