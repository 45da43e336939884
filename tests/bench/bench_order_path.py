"""Order creation under the production server: the order and inventory services under
gunicorn (`platform_services.wsgi`, the services' gunicorn config) with the order
service's background process relaying its outbox to RabbitMQ, against a bare Flask +
psycopg INSERT endpoint under the same gunicorn settings, on the same database.

    .venv/bin/python tests/bench/bench_order_path.py [--seconds 10] [--rounds 3] \
        [--clients 8 32]

wrk (`apt-get install wrk`) drives each endpoint for a bounded time per round, order,
bare and the inventory reservation alone interleaved so machine noise hits all; every
order carries its own Idempotency-Key and a platform token. The bare endpoint gets the
services' connection pool settings (DB_POOL_SIZE, DB_MAX_OVERFLOW), so both sides differ
only in what the order path does. Prints orders/s, p99 and the ratio per client count
(the reservation's figures show how much of the order path its dependency takes), each
round's ratio, the load average seen before each run, the CPU time per request of each
process type (web and background processes, and the PostgreSQL backends of this run's
database: a cost other work on a shared machine does not inflate, unlike throughput), and
the resident memory (VmRSS) of every process type the run started, read after the last
round. Not run by CI.
"""
from __future__ import annotations

import argparse
import os
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402
from flask import Flask, jsonify, request  # noqa: E402

from platform_services.common.config import from_env  # noqa: E402
from platform_services.common.jwt_auth import audience_of  # noqa: E402
from platform_services.common.resources import make_engine  # noqa: E402
from platform_services.common.runner import background_command  # noqa: E402
from platform_services.orders.models import order_lines, orders  # noqa: E402
from tests.integration.services import gunicorn, servers, tokens  # noqa: E402

TENANT = (990_002, "bench-order-path")
SKUS = 20
# wrk's request: a JSON body of one line and a key (Idempotency-Key, reservation
# reference) unique to the run, wrk thread and request.
WRK_SCRIPT = """
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("id", threads)
end
local n = 0
request = function()
  n = n + 1
  local key = "%(run)s-" .. id .. "-" .. n
  local body = string.format('%(body)s', n %% %(skus)d, key)
  return wrk.format("POST", "%(path)s", {["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer %(token)s", ["Idempotency-Key"] = key}, body)
end
"""
ORDER_BODY = '{"lines": [{"sku": "SKU-%02d", "quantity": 1}]}%.0s'
RESERVE_BODY = '{"lines": [{"sku": "SKU-%02d", "quantity": 1}], "reference": "%s"}'


def bare_app() -> Flask:
    """The baseline (gunicorn factory): parse JSON, INSERT the order and its lines, with
    the services' default connection pool."""
    config = from_env("order")
    engine = make_engine(config.database_url, config.db_pool_size, config.db_max_overflow,
                         config.db_pool_timeout)
    app = Flask("bare")

    @app.get("/healthz")
    def healthz():
        return jsonify({"status": "ok"})

    @app.post("/v1/tenants/<tenant>/orders")
    def bare_insert(tenant: str):
        data = request.get_json()
        order_id = str(uuid.uuid4())
        with engine.begin() as conn:
            conn.execute(orders.insert().values(id=order_id, tenant_id=TENANT[0],
                                                total_quantity=1))
            conn.execute(order_lines.insert(), [{"order_id": order_id, **line}
                                                for line in data["lines"]])
        return jsonify({"id": order_id}), 201

    return app


def run_wrk(url: str, path: str, body: str, token: str, clients: int, seconds: int,
            workdir: Path) -> dict:
    """One bounded wrk run; requests/s, p99 (s) and the count of non-2xx answers."""
    script = workdir / "post.lua"
    script.write_text(WRK_SCRIPT % {"body": body, "skus": SKUS, "path": path, "token": token,
                                    "run": secrets.token_hex(6)})
    out = subprocess.run(["wrk", "-t", "2", "-c", str(clients), "-d", f"{seconds}s",
                          "--timeout", "10s", "--latency", "-s", str(script), url + path],
                         capture_output=True, text=True, check=True).stdout
    p99 = re.search(r"^\s+99%\s+([\d.]+)(us|ms|s)\b", out, re.M)
    scale = {"us": 1e-6, "ms": 1e-3, "s": 1.0}[p99.group(2)]
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    return {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
            "p99": float(p99.group(1)) * scale, "non_2xx": int(bad.group(1)) if bad else 0,
            "socket_errors": errors.group(1) if errors else ""}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--clients", type=int, nargs="+", default=[8, 32])
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is required: apt-get install wrk")
    workdir = Path(tempfile.mkdtemp(prefix="bench-order-path-"))
    database_url = servers.create_database()
    prefix = f"bench{secrets.token_hex(2)}."
    auth_server = tokens.platform_auth(database_url)
    auth = next(auth_server)
    env = gunicorn.deployed_env(database_url, auth.url, prefix, LOG_LEVEL="WARNING",
                                RABBITMQ_URL=servers.BROKER_URL)
    started: list = []
    background = None
    try:
        inventory = gunicorn.service("inventory", env, workdir / "inventory.log")
        started.append(inventory)
        order = gunicorn.service("order", {**env, "INVENTORY_URL": inventory.url},
                                 workdir / "order.log")
        started.append(order)
        bare = gunicorn.app("tests.bench.bench_order_path:bare_app()", env,
                            workdir / "bare.log")
        started.append(bare)
        with (workdir / "background.log").open("wb") as out:
            background = subprocess.Popen(
                background_command("order"),
                env={**os.environ, **env}, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
        for service, name in ((inventory, "inventory"), (order, "order")):
            tokens.api.services[service.url] = (name, auth.url)
            servers.register(service.url, TENANT)
        servers.stock(inventory.url, TENANT[1], "us-east-1a",
                      {f"SKU-{i:02d}": 10_000_000 for i in range(SKUS)})
        cpu = CpuMeter(database_url, {"order web": children(order.proc.pid),
                                      "inventory web": children(inventory.proc.pid),
                                      "bare web": children(bare.proc.pid),
                                      "order background": [background.pid]})
        results = measure(args, {"order": order.url, "bare": bare.url,
                                 "inventory": inventory.url}, workdir, cpu)
        memory = {"service web: order (gunicorn worker)": worker_rss(order.proc.pid),
                  "service web: inventory (gunicorn worker)": worker_rss(inventory.proc.pid),
                  "bare INSERT app (gunicorn worker)": worker_rss(bare.proc.pid),
                  "gunicorn master (each)": rss_mib(order.proc.pid),
                  "background: order (outbox relay, consumer)": rss_mib(background.pid)}
    finally:
        if background is not None:
            background.terminate()
            background.wait(30)
        for server in reversed(started):
            server.stop()
        next(auth_server, None)  # stops it
        servers.delete_broker_objects(prefix, ["orders.shipments"])
        servers.drop_database(database_url)
    report(args, results, memory)


def rss_mib(pid: int) -> float:
    """VmRSS of `pid` in MiB (0 when it is gone)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0.0
    match = re.search(r"^VmRSS:\s+(\d+) kB", status, re.M)
    return int(match.group(1)) / 1024 if match else 0.0


def children(pid: int) -> list[int]:
    """The direct children of `pid` (a gunicorn master's workers)."""
    return [int(kid) for kid in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def worker_rss(master: int) -> float:
    """VmRSS (MiB) of the gunicorn worker under `master` (the largest, if several)."""
    return max((rss_mib(pid) for pid in children(master)), default=0.0)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time `pid` has used (0 when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class CpuMeter:
    """CPU time per process type: the bench's own processes and the PostgreSQL backends
    serving this run's database (other databases' backends, like other work on the
    machine, are not counted), so a request's cost is measured apart from the noise."""

    def __init__(self, database_url: str, processes: dict[str, list[int]]) -> None:
        self.processes = processes
        self.database_url = database_url.replace("postgresql+psycopg://", "postgresql://")

    def read(self) -> dict[str, float]:
        with psycopg.connect(self.database_url, autocommit=True) as conn:
            backends = [row[0] for row in conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid()")]
        return {**{name: sum(cpu_seconds(pid) for pid in pids)
                   for name, pids in self.processes.items()},
                "postgresql": sum(cpu_seconds(pid) for pid in backends)}


def measure(args, urls: dict[str, str], workdir: Path, cpu: CpuMeter) -> dict:
    """Interleaved rounds per client count: order, bare, then the inventory reservation
    alone (the order path's own dependency, to show its share), after a warm-up of each."""
    creds = tokens.credentials(tokens.api.services[urls["order"]][1])
    orders_path = f"/v1/tenants/{TENANT[1]}/orders"
    targets = {"order": (urls["order"], orders_path, ORDER_BODY, "order"),
               "bare": (urls["bare"], orders_path, ORDER_BODY, "order"),
               "reserve": (urls["inventory"], f"/v1/tenants/{TENANT[1]}/reservations",
                           RESERVE_BODY, "inventory")}
    for url, path, body, audience in targets.values():  # pools, JWKS, service tokens
        run_wrk(url, path, body, creds.token(audience_of(audience)), 8, 2, workdir)
    results: dict = {}
    for clients in args.clients:
        for round_no in range(args.rounds):
            for name, (url, path, body, audience) in targets.items():
                load, before = os.getloadavg()[0], cpu.read()
                run = run_wrk(url, path, body, creds.token(audience_of(audience)), clients,
                              args.seconds, workdir)
                after = cpu.read()
                served = run["rps"] * args.seconds
                run["load"] = load
                run["cpu_ms"] = {kind: 1000 * (after[kind] - before.get(kind, 0.0)) / served
                                 for kind in after}
                results.setdefault((clients, name), []).append(run)
                print(f"clients {clients:>3} round {round_no + 1} {name:<8}"
                      f"{run['rps']:>9.1f} req/s  p99 {1000 * run['p99']:>7.1f} ms  "
                      f"non-2xx {run['non_2xx']}  load {load:.2f} {run['socket_errors']}",
                      flush=True)
    return results


def report(args, results: dict, memory: dict[str, float]) -> None:
    print(f"\n{args.rounds} rounds of {args.seconds} s per endpoint and client count "
          f"(medians), cpus: {os.cpu_count()}, the services' gunicorn config for all")
    print(f"{'clients':>7}{'order/s':>9}{'bare/s':>9}{'ratio':>7}{'order p99':>11}"
          f"{'bare p99':>10}{'reserve/s':>11}{'reserve p99':>13}{'load':>7}")
    for clients in args.clients:
        rps = {name: statistics.median(r["rps"] for r in results[(clients, name)])
               for name in ("order", "bare", "reserve")}
        p99 = {name: 1000 * statistics.median(r["p99"] for r in results[(clients, name)])
               for name in ("order", "bare", "reserve")}
        load = statistics.median(r["load"] for name in ("order", "bare", "reserve")
                                 for r in results[(clients, name)])
        print(f"{clients:>7}{rps['order']:>9.1f}{rps['bare']:>9.1f}"
              f"{rps['order'] / rps['bare']:>7.2f}{p99['order']:>9.1f}ms{p99['bare']:>8.1f}ms"
              f"{rps['reserve']:>11.1f}{p99['reserve']:>11.1f}ms{load:>7.2f}")
        rounds = [o["rps"] / b["rps"] for o, b in zip(results[(clients, "order")],
                                                       results[(clients, "bare")])]
        print(f"{'':>7} ratio per round: {', '.join(f'{r:.2f}' for r in rounds)}")
        for name in ("order", "bare", "reserve"):
            costs = {kind: statistics.median(r["cpu_ms"].get(kind, 0.0)
                                             for r in results[(clients, name)])
                     for kind in results[(clients, name)][0]["cpu_ms"]}
            print(f"{'':>7} CPU ms per {name:<8} total {sum(costs.values()):5.2f}: "
                  + ", ".join(f"{kind} {ms:.2f}" for kind, ms in costs.items() if ms >= 0.01))
    failed = sum(r["non_2xx"] for runs in results.values() for r in runs)
    print(f"non-2xx answers in all runs: {failed}")
    print("\nresident memory after the last round (VmRSS):")
    for name, mib in memory.items():
        print(f"  {name:<44}{mib:>7.1f} MiB")


if __name__ == "__main__":
    main()
