"""Order creation throughput and latency: the real order endpoint (validation, idempotency
key in Redis, stock reservation over HTTP at the inventory service, transactional outbox
with the relay publishing to RabbitMQ) against a bare INSERT-only endpoint on the same
database, measured in the same run.

    .venv/bin/python tests/bench/bench_services.py [--orders 1000] [--concurrency 8]

Each service runs in its own process (as in production), on loopback, against the local
PostgreSQL, Redis and RabbitMQ. Not run by CI; figures go to docs/benchmarks.md.
"""
from __future__ import annotations

import argparse
import os
import secrets
import statistics
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests
from flask import jsonify
from sqlalchemy import func, select

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from platform_services.common.app import create_service_app, json_body  # noqa: E402
from platform_services.common.observability import Metrics  # noqa: E402
from platform_services.common.resources import make_engine  # noqa: E402
from platform_services.common.runner import Service, serve_forever  # noqa: E402
from platform_services.orders.models import order_lines, orders, outbox  # noqa: E402
from tests.integration.services import servers  # noqa: E402
from tests.servers import wait_until  # noqa: E402

TENANT = (990_001, "bench-tenant")


def bare_service(database_url: str) -> Service:
    """The baseline: parse JSON, INSERT the order and its lines, nothing else."""
    engine = make_engine(database_url, pool_size=20)
    app = create_service_app("bare", Metrics("bare"), [])

    @app.post("/v1/tenants/<tenant>/orders")
    def bare_insert(tenant: str):
        data = json_body()
        order_id = str(uuid.uuid4())
        with engine.begin() as conn:
            conn.execute(orders.insert().values(id=order_id, tenant_id=TENANT[0],
                                                total_quantity=1))
            conn.execute(order_lines.insert(), [{"order_id": order_id, **line}
                                                for line in data["lines"]])
        return jsonify({"id": order_id}), 201

    return Service("bare", app, [], [engine])


def spawn(args: list[str], env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, *args], env=env, cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def wait_healthy(url: str) -> None:
    wait_until(lambda: requests.get(f"{url}/healthz", timeout=1).status_code == 200,
               timeout=10, what=url)


def drive(url: str, n: int, concurrency: int, keyed: bool) -> dict[str, float]:
    """POST n orders from `concurrency` clients; throughput and latency percentiles."""
    http = requests.Session()
    http.mount("http://", requests.adapters.HTTPAdapter(pool_maxsize=concurrency))

    def one(i: int) -> float:
        headers = {"Idempotency-Key": uuid.uuid4().hex} if keyed else {}
        started = time.perf_counter()
        response = http.post(f"{url}/v1/tenants/{TENANT[1]}/orders", headers=headers,
                             json={"lines": [{"sku": f"SKU-{i % 20:02d}", "quantity": 1}]},
                             timeout=30)
        elapsed = time.perf_counter() - started
        if response.status_code != 201:
            raise RuntimeError(f"order {i}: {response.status_code} {response.text[:200]}")
        return elapsed

    for i in range(min(50, n)):  # warm-up: pools, caches
        one(i)
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        latencies = sorted(pool.map(one, range(n)))
    wall = time.perf_counter() - started
    return {"rps": n / wall, "p50": latencies[len(latencies) // 2],
            "p99": latencies[int(len(latencies) * 0.99) - 1], "mean": statistics.mean(latencies)}


def wait_relayed(database_url: str) -> float:
    """Seconds until the relay has published every outbox row."""
    engine = make_engine(database_url, pool_size=1)
    started = time.perf_counter()
    while True:
        with engine.connect() as conn:
            left = conn.scalar(select(func.count()).select_from(outbox)
                               .where(outbox.c.published_at.is_(None)))
        if not left:
            engine.dispose()
            return time.perf_counter() - started
        time.sleep(0.05)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--bare-server", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.bare_server:
        serve_forever(bare_service(os.environ["DATABASE_URL"]), "127.0.0.1",
                      int(args.bare_server))
        return
    database_url = servers.create_database()
    prefix = f"bench{secrets.token_hex(2)}."
    env = {**os.environ, "DATABASE_URL": database_url, "LOG_LEVEL": "WARNING",
           "RABBITMQ_URL": servers.BROKER_URL, "REDIS_URL": servers.REDIS_URL,
           "REDIS_KEY_PREFIX": prefix, "EXCHANGE_PREFIX": prefix}
    ports = {name: servers.free_port() for name in ("inventory", "order", "bare")}
    urls = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
    children = [
        spawn(["-m", "platform_services", "serve", "inventory"],
              {**env, "SERVICE_PORT": str(ports["inventory"])}),
        spawn(["-m", "platform_services", "serve", "order"],
              {**env, "SERVICE_PORT": str(ports["order"]), "INVENTORY_URL": urls["inventory"]}),
        spawn([str(Path(__file__).resolve()), "--bare-server", str(ports["bare"])], env),
    ]
    try:
        for url in urls.values():
            wait_healthy(url)
        for name in ("inventory", "order"):
            servers.register(urls[name], TENANT)
        servers.stock(urls["inventory"], TENANT[1], "us-east-1a",
                      {f"SKU-{i:02d}": 10_000_000 for i in range(20)})
        bare = drive(urls["bare"], args.orders, args.concurrency, keyed=False)
        full = drive(urls["order"], args.orders, args.concurrency, keyed=True)
        relay_lag = wait_relayed(database_url)
    finally:
        for child in children:
            child.terminate()
        for child in children:
            child.wait(20)
        servers.delete_broker_objects(prefix, [])
        servers.drop_database(database_url)
    report(args, bare, full, relay_lag)


def report(args, bare: dict[str, float], full: dict[str, float], relay_lag: float) -> None:
    print(f"orders per run: {args.orders}, concurrent clients: {args.concurrency}, "
          f"cpus: {os.cpu_count()}")
    print(f"{'endpoint':<44}{'orders/s':>10}{'p50 ms':>9}{'p99 ms':>9}")
    for name, r in (("bare INSERT (baseline)", bare),
                    ("order service (reserve + outbox + relay)", full)):
        print(f"{name:<44}{r['rps']:>10.1f}{1000 * r['p50']:>9.1f}{1000 * r['p99']:>9.1f}")
    print(f"throughput ratio order/bare: {full['rps'] / bare['rps']:.2f}; "
          f"p99 ratio order/bare: {full['p99'] / bare['p99']:.2f}; "
          f"seed SLO p99 < 500 ms: {'met' if full['p99'] < 0.5 else 'MISSED'}; "
          f"outbox drained {relay_lag:.2f} s after the last order")


if __name__ == "__main__":
    main()
