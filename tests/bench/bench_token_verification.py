"""What checking a bearer token costs: the order service's cheap authenticated GET (the
tenant's order list) under gunicorn with the services' config, against the same app built
with the token check removed (a bench-only factory below; production code has no switch),
against GET /healthz of the verified app, and, when nginx is installed, through the edge
(infra/nginx: token checked at the auth service, cached). A bare PyJWT RS256 verify loop
gives the raw cost of one check.

    .venv/bin/python tests/bench/bench_token_verification.py [--seconds 5] [--rounds 3] \
        [--clients 16]

wrk (`apt-get install wrk`) drives each target for a bounded time per round, targets
interleaved so machine noise hits all; the load average is printed before each run.
Not run by CI.
"""
from __future__ import annotations

import argparse
import collections
import json
import logging
import os
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import jwt  # noqa: E402
import requests  # noqa: E402
from flask import Flask  # noqa: E402

from platform_services import wsgi  # noqa: E402
from platform_services.common.jwt_auth import audience_of  # noqa: E402
from portal import dev_edge  # noqa: E402
from tests.integration.services import gunicorn, servers, tokens  # noqa: E402

TENANT = (990_017, "bench-token-verify")


def unverified_order_app() -> Flask:
    """The order service as gunicorn's factory builds it, minus its token check (bench
    only: the difference to the real app is the cost of verification)."""
    app = wsgi.create("order")
    hooks = app.before_request_funcs[None]
    kept = [hook for hook in hooks if hook.__name__ != "_require_token"]
    if len(kept) != len(hooks) - 1:
        raise RuntimeError("the order app's token check was not found")
    app.before_request_funcs[None] = kept
    return app


def run_wrk(url: str, token: str | None, clients: int, seconds: int) -> dict:
    """One bounded wrk GET run: requests/s, p99 (s), non-2xx count."""
    header = ["-H", f"Authorization: Bearer {token}"] if token else []
    out = subprocess.run(["wrk", "-t", "2", "-c", str(clients), "-d", f"{seconds}s",
                          "--timeout", "10s", "--latency", *header, url],
                         capture_output=True, text=True, check=True).stdout
    p99 = re.search(r"^\s+99%\s+([\d.]+)(us|ms|s)\b", out, re.M)
    scale = {"us": 1e-6, "ms": 1e-3, "s": 1.0}[p99.group(2)]
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
            "p99": float(p99.group(1)) * scale, "non_2xx": int(bad.group(1)) if bad else 0}


def pyjwt_loop(auth_url: str, token: str, seconds: float) -> float:
    """Single-threaded RS256 verifications per second of `token` with PyJWT."""
    key = jwt.PyJWKClient(f"{auth_url}/.well-known/jwks.json").get_signing_key_from_jwt(token)
    count, deadline = 0, time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        jwt.decode(token, key.key, algorithms=["RS256"], audience=audience_of("order"),
                   options={"verify_iss": False})
        count += 1
    return count / seconds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--clients", type=int, nargs="+", default=[16])
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # the in-process auth service
    if shutil.which("wrk") is None:
        sys.exit("wrk is required: apt-get install wrk")
    workdir = Path(tempfile.mkdtemp(prefix="bench-token-verify-"))
    database_url = servers.create_database()
    prefix = f"bench{secrets.token_hex(2)}."
    auth_server = tokens.platform_auth(database_url)
    auth = next(auth_server)
    env = gunicorn.deployed_env(database_url, auth.url, prefix, LOG_LEVEL="WARNING",
                                RABBITMQ_URL=servers.BROKER_URL)
    started: list = []
    edge = None
    try:
        verified = gunicorn.service("order", env, workdir / "verified.log")
        started.append(verified)
        unverified = gunicorn.app(
            "tests.bench.bench_token_verification:unverified_order_app()", env,
            workdir / "unverified.log")
        started.append(unverified)
        tokens.api.services[verified.url] = ("order", auth.url)
        servers.register(verified.url, TENANT)
        if dev_edge.binary():
            # A limit no bench reaches: the edge's cost, not its throttle, is measured.
            edge = dev_edge.start(dev_edge.EdgeSpec(
                prefix=workdir / "edge", listen=f"127.0.0.1:{servers.free_port()}",
                auth_upstream=auth.url.removeprefix("http://"),
                upstreams={"order": verified.url.removeprefix("http://")},
                rate=1_000_000, burst=1_000_000, workers=2))
        path = f"/v1/tenants/{TENANT[1]}/orders"
        targets = {"verified": (f"{verified.url}{path}", True),
                   "unverified": (f"{unverified.url}{path}", False),
                   "healthz": (f"{verified.url}/healthz", False)}
        if edge is not None:
            targets["edge"] = (f"{edge.service_url('order')}{path}", True)
        client = tokens.credentials(auth.url)
        token = client.token(audience_of("order"))
        for url, needs_token in targets.values():
            answer = requests.get(url, headers={"Authorization": f"Bearer {token}"}
                                  if needs_token else {}, timeout=10)
            answer.raise_for_status()
        results = measure(args, targets, client)
        verifies = pyjwt_loop(auth.url, token, 3.0)
        if edge is not None:
            lines = edge.access_log.read_text().splitlines()
            print("edge token checks:", dict(collections.Counter(
                json.loads(line)["auth_cache"] or "none" for line in lines)))
    finally:
        if edge is not None:
            edge.stop()
        for server in reversed(started):
            server.stop()
        next(auth_server, None)  # stops it
        servers.drop_database(database_url)
    report(args, results, verifies)


def measure(args, targets: dict, client) -> dict:
    """Interleaved rounds per client count over every target, after a warm-up of each."""
    for url, needs_token in targets.values():
        run_wrk(url, client.token(audience_of("order")) if needs_token else None, 8, 2)
    results: dict = {}
    for clients in args.clients:
        for round_no in range(args.rounds):
            for name, (url, needs_token) in targets.items():
                load = os.getloadavg()[0]
                token = client.token(audience_of("order")) if needs_token else None
                run = run_wrk(url, token, clients, args.seconds)
                results.setdefault((clients, name), []).append(run)
                print(f"clients {clients:>3} round {round_no + 1} {name:<10}"
                      f"{run['rps']:>9.1f} req/s  p99 {1000 * run['p99']:>7.1f} ms  "
                      f"non-2xx {run['non_2xx']}  load {load:.2f}", flush=True)
    return results


def report(args, results: dict, verifies: float) -> None:
    print(f"\n{args.rounds} rounds of {args.seconds} s per target (medians), "
          f"cpus: {os.cpu_count()}, load now {os.getloadavg()[0]:.2f}")
    for clients in args.clients:
        names = [name for (c, name) in results if c == clients]
        rps = {n: statistics.median(r["rps"] for r in results[(clients, n)]) for n in names}
        p99 = {n: 1000 * statistics.median(r["p99"] for r in results[(clients, n)])
               for n in names}
        for name in names:
            print(f"clients {clients:>3} {name:<10}{rps[name]:>9.1f} req/s  "
                  f"p99 {p99[name]:>7.1f} ms  vs unverified "
                  f"{rps[name] / rps['unverified']:.2f}")
    print(f"bare PyJWT RS256 verify, one thread: {verifies:.0f}/s "
          f"({1e6 / verifies:.0f} us each)")
    print(f"non-2xx answers in all runs: "
          f"{sum(r['non_2xx'] for runs in results.values() for r in runs)}")


if __name__ == "__main__":
    main()
