"""Each role's home under gunicorn: p95 latency against /healthz and /login, SQL statements.

    .venv/bin/python tests/bench/bench_role_homes.py [--seconds 3] [--rounds 3] [--clients 4]

A throwaway database gets Meridian's demo data. First, in process, each demo user (on-call,
developer, manager, tenant viewer, admin) signs in through the login form of a test client
and opens the home twice; the SQL statements of the second (warm) request are counted with
a `before_cursor_execute` listener (tests/seeded_demo.py's `counting`), and those of the
first are shown too; five more requests give the home's CPU time in process. Then the portal runs under gunicorn with `gunicorn.conf.py`, every
role signs in over HTTP, and each round measures, for each role in turn (the order rotates
between rounds), /healthz, the signed-out login page (a rendered template, a steadier
baseline than /healthz's few milliseconds) and then GET / as that role, with `--clients`
threads on keep-alive sessions for `--seconds` each. A role's figures are the medians over
rounds of (home p95 ÷ the p95 of each baseline run just before it), so a change of machine
load hits both. The load average is printed before each round. Not run by CI.
"""
from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from portal.app import create_app  # noqa: E402
from portal.demo import meridian  # noqa: E402
from tests.bench.bench_home_overview import p95, timed  # noqa: E402
from tests.bench.bench_pages import UA  # noqa: E402
from tests.bench.bench_pages import seed as seed_demo_data  # noqa: E402
from tests.conftest import PortalClient, create_database, drop_database  # noqa: E402
from tests.e2e.conftest import DEMO_EMAILS  # noqa: E402
from tests.seeded_demo import counting  # noqa: E402
from tests.servers import free_port, running  # noqa: E402

ROLES = ("oncall", "developer", "manager", "tenant_viewer", "admin")
CPU_RUNS = 5
CONFIG = {"SECRET_KEY": "b" * 40, "CELERY_BROKER_URL": "memory://", "LOG_LEVEL": "WARNING"}


def statements(database_url: str) -> dict[str, tuple[int, int, float]]:
    """(first, warm) SQL statement counts of GET / per role, in process, and the median CPU
    time (ms) of this process over CPU_RUNS warm requests: a figure the machine's load
    barely moves."""
    app = create_app({**CONFIG, "DATABASE_URL": database_url})
    app.test_client_class = PortalClient
    engine = app.extensions["portal_db"].engine
    counts = {}
    for role in ROLES:
        email = DEMO_EMAILS[role]
        client = app.test_client()
        done = client.post_form("/login", {"email": email,
                                           "password": meridian.demo_password(email)})
        assert done.status_code == 303, (role, done.status_code)
        runs = []
        for _ in range(2):  # the first request also fills per-process caches
            with counting(engine) as seen:
                answer = client.get("/")
            assert answer.status_code == 200, (role, answer.status_code)
            runs.append(len(seen))
        cpu = []
        for _ in range(CPU_RUNS):
            started = time.process_time()
            client.get("/")
            cpu.append((time.process_time() - started) * 1000)
        counts[role] = (runs[0], runs[1], statistics.median(cpu))
    engine.dispose()
    return counts


def sign_in(url: str, email: str) -> str:
    """The Cookie header of a session signed in through the login form."""
    http = requests.Session()
    http.headers["User-Agent"] = UA
    page = http.get(f"{url}/login", timeout=30).text
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    done = http.post(f"{url}/login", data={"email": email, "csrf_token": token,
                                           "password": meridian.demo_password(email)},
                     timeout=30, allow_redirects=False)
    assert done.status_code == 303, (email, done.status_code)
    return "; ".join(f"{c.name}={c.value}" for c in http.cookies)


def measure(url: str, args) -> dict[str, list[dict]]:
    cookies = {role: sign_in(url, DEMO_EMAILS[role]) for role in ROLES}
    for cookie in cookies.values():  # warm every worker, and check each home answers
        timed(url + "/", cookie, args.clients, 1)
    timed(url + "/healthz", cookies["admin"], args.clients, 1)
    timed(url + "/login", "", args.clients, 1)
    results: dict[str, list[dict]] = {role: [] for role in ROLES}
    for n in range(args.rounds):
        load = os.getloadavg()
        print(f"round {n + 1}: load average {load[0]:.2f} {load[1]:.2f}", flush=True)
        order = ROLES[n % len(ROLES):] + ROLES[:n % len(ROLES)]
        for role in order:
            base = timed(url + "/healthz", cookies[role], args.clients, args.seconds)
            login = timed(url + "/login", "", args.clients, args.seconds)  # signed out
            home = timed(url + "/", cookies[role], args.clients, args.seconds)
            row = {"base_p95": p95(base), "login_p95": p95(login), "p95": p95(home),
                   "p50": statistics.median(home), "rps": len(home) / args.seconds,
                   "load": load[0]}
            row["ratio"] = row["p95"] / row["base_p95"]
            row["login_ratio"] = row["p95"] / row["login_p95"]
            results[role].append(row)
            print(f"  {role:14} / p50 {row['p50']:7.1f} ms p95 {row['p95']:7.1f} ms "
                  f"({row['rps']:5.1f} req/s); /healthz p95 {row['base_p95']:6.1f} ms "
                  f"= {row['ratio']:5.2f}x; /login p95 {row['login_p95']:6.1f} ms "
                  f"= {row['login_ratio']:5.2f}x", flush=True)
    return results


def report(results: dict[str, list[dict]], counts: dict[str, tuple[int, int, float]],
           args) -> None:
    loads = [r["load"] for runs in results.values() for r in runs]
    print(f"\n{args.clients} clients, {args.rounds} rounds of {args.seconds:g} s per role, "
          f"gunicorn.conf.py on {os.cpu_count()} cores; load average "
          f"{min(loads):.2f}-{max(loads):.2f}")
    print("| role | statements (warm; first) | CPU ms in process | / p50 ms | / p95 ms "
          "| /healthz p95 ms | ÷ /healthz p95 | /login p95 ms | ÷ /login p95 | req/s |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for role, runs in results.items():
        def med(key, runs=runs):
            return statistics.median(r[key] for r in runs)
        first, warm, cpu = counts[role]
        print(f"| {role} | {warm} ({first}) | {cpu:.0f} | {med('p50'):.0f} | "
              f"{med('p95'):.0f} | {med('base_p95'):.0f} | {med('ratio'):.1f}× | "
              f"{med('login_p95'):.0f} | {med('login_ratio'):.1f}× | {med('rps'):.1f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--clients", type=int, default=4)
    args = parser.parse_args()
    database_url = create_database("_bench_role_homes")
    try:
        seed_demo_data(database_url)
        counts = statements(database_url)
        print("statements per home (warm; first), CPU ms: " + ", ".join(
            f"{role} {warm} ({first}) {cpu:.0f} ms" for role, (first, warm, cpu)
            in counts.items()), flush=True)
        port = free_port()
        os.environ.update({**CONFIG, "DATABASE_URL": database_url,
                           "GUNICORN_BIND": f"127.0.0.1:{port}"})
        os.chdir(ROOT)
        url = f"http://127.0.0.1:{port}"
        with tempfile.TemporaryDirectory() as tmp, running(
                [str(ROOT / ".venv/bin/gunicorn"), "-c", str(ROOT / "gunicorn.conf.py"),
                 "portal:create_app()"], ready=f"{url}/healthz", log=Path(tmp) / "g.log",
                timeout=120, what="gunicorn"):
            results = measure(url, args)
    finally:
        drop_database(database_url)
    report(results, counts, args)


if __name__ == "__main__":
    main()
