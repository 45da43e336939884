"""Throughput of every main page against /healthz, under the production server.

    .venv/bin/python tests/bench/bench_pages.py [--seconds 5] [--rounds 3] [--clients 8]
        [--pages / /catalog/ ...]

A throwaway database gets Meridian's demo data; the portal runs under gunicorn with
`gunicorn.conf.py` (its worker and thread counts); the demo admin signs in through the
login form and wrk (`apt-get install wrk`) drives each page with that session cookie and
`--clients` connections for `--seconds`. Rounds interleave /healthz (the baseline) with
every page, so a change of machine load hits both; each page's figure is the median over
rounds of (page requests/s ÷ the /healthz requests/s of the same round). The load average
is printed before each round. Target: every main page ≥ 0.3× /healthz. Not run by CI.
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from sqlalchemy import select  # noqa: E402

from portal.app import create_app  # noqa: E402
from portal.demo import meridian  # noqa: E402
from portal.demo.seed import seed_demo  # noqa: E402
from portal.extensions import db  # noqa: E402
from portal.incidents.models import Incident  # noqa: E402
from tests.conftest import FAST_ARGON2, create_database, drop_database  # noqa: E402
from tests.servers import free_port, running  # noqa: E402

EMAIL = "admin@meridian.example"
PAGES = ["/", "/catalog/", "/catalog/services/order", "/catalog/search?q=orders",
         "/oncall/", "/slo/", "/incidents/", "/incidents/{incident}", "/selfservice/",
         "/tenants/acme-retail", "/admin/audit"]
TARGET = 0.3


UA = "bench-pages"  # the session is bound to the user agent it was opened with


def sign_in(url: str) -> str:
    """The Cookie header of a signed-in admin session."""
    http = requests.Session()
    http.headers["User-Agent"] = UA
    page = http.get(f"{url}/login", timeout=30).text
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    done = http.post(f"{url}/login", data={"email": EMAIL, "csrf_token": token,
                                           "password": meridian.demo_password(EMAIL)},
                     timeout=30, allow_redirects=False)
    assert done.status_code == 303, done.status_code
    return "; ".join(f"{c.name}={c.value}" for c in http.cookies)


def run_wrk(url: str, cookie: str, clients: int, seconds: int) -> dict:
    """One bounded wrk run: requests/s, p99 in ms, and answers other than 2xx/3xx."""
    out = subprocess.run(["wrk", "-t", "2", "-c", str(clients), "-d", f"{seconds}s",
                          "--timeout", "10s", "--latency", "-H", f"Cookie: {cookie}",
                          "-H", f"User-Agent: {UA}", url],
                         capture_output=True, text=True, check=True).stdout
    p99 = re.search(r"^\s+99%\s+([\d.]+)(us|ms|s)\b", out, re.M)
    scale = {"us": 1e-3, "ms": 1.0, "s": 1e3}[p99.group(2)]
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
            "p99": float(p99.group(1)) * scale, "bad": int(bad.group(1)) if bad else 0}


def check_signed_in(url: str, cookie: str) -> None:
    answer = requests.get(url, headers={"Cookie": cookie, "User-Agent": UA}, timeout=60,
                          allow_redirects=False)
    assert answer.status_code == 200, (url, answer.status_code)


def warm(url: str, cookie: str, clients: int, per_client: int = 10) -> None:
    """`clients` connections each wait for `per_client` answers of `url`, so that every
    worker has built its caches for the page before any round (a short wrk run instead
    would leave the slow first views running into the measured rounds); every answer must
    be 200 (wrk counts a redirect to the login as a success)."""
    def one_client() -> None:
        for _ in range(per_client):  # a new connection each time: any worker may take it
            check_signed_in(url, cookie)

    with ThreadPoolExecutor(clients) as pool:
        for done in [pool.submit(one_client) for _ in range(clients)]:
            done.result()


def seed(database_url: str) -> int:
    """Demo data; returns the id of a demo incident for the incident page."""
    app = create_app({"DATABASE_URL": database_url, "SECRET_KEY": "b" * 40,
                      "CELERY_BROKER_URL": "memory://", "LOG_LEVEL": "WARNING"})
    with app.app_context(), db.session_scope() as session:
        seed_demo(session=session, argon2_params=FAST_ARGON2)
        session.flush()
        incident = session.scalar(select(Incident.id).order_by(Incident.id).limit(1))
    app.extensions["portal_db"].engine.dispose()
    return incident


def measure(url: str, pages: list[str], args) -> dict[str, list[dict]]:
    cookie = sign_in(url)
    for path in ["/healthz", *pages]:  # warm every worker's caches and check each page
        warm(url + path, cookie, args.clients)
    results: dict[str, list[dict]] = {path: [] for path in ["/healthz", *pages]}
    for n in range(args.rounds):
        load = os.getloadavg()
        print(f"round {n + 1}: load average {load[0]:.2f} {load[1]:.2f}", flush=True)
        for path in pages:
            base = run_wrk(url + "/healthz", cookie, args.clients, args.seconds)
            page = run_wrk(url + path, cookie, args.clients, args.seconds)
            results["/healthz"].append(base)
            results[path].append({**page, "ratio": page["rps"] / base["rps"],
                                  "load": load[0]})
            print(f"  {path:32} {page['rps']:8.1f} req/s vs /healthz {base['rps']:8.1f} "
                  f"= {page['rps'] / base['rps']:.3f}x  p99 {page['p99']:.0f} ms"
                  + (f"  ({page['bad']} non-2xx)" if page["bad"] else ""), flush=True)
    return results


def report(results: dict[str, list[dict]], args) -> None:
    base = results.pop("/healthz")
    print(f"\n{args.clients} clients, {args.rounds} rounds of {args.seconds} s per page, "
          f"gunicorn.conf.py on {os.cpu_count()} cores; /healthz median "
          f"{statistics.median(r['rps'] for r in base):.1f} req/s")
    print(f"{'page':32} {'req/s':>8} {'x /healthz':>11} {'p99 ms':>8}  target {TARGET}x")
    for path, runs in results.items():
        ratio = statistics.median(r["ratio"] for r in runs)
        print(f"{path:32} {statistics.median(r['rps'] for r in runs):8.1f} {ratio:11.3f} "
              f"{statistics.median(r['p99'] for r in runs):8.0f}  "
              f"{'met' if ratio >= TARGET else 'NOT met'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--pages", nargs="*", default=PAGES)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is required: apt-get install wrk")
    database_url = create_database("_bench_pages")
    try:
        incident = seed(database_url)
        pages = [p.format(incident=incident) for p in args.pages]
        port = free_port()
        os.environ.update({"DATABASE_URL": database_url, "SECRET_KEY": "b" * 40,
                           "CELERY_BROKER_URL": "memory://", "LOG_LEVEL": "WARNING",
                           "GUNICORN_BIND": f"127.0.0.1:{port}"})
        os.chdir(ROOT)
        url = f"http://127.0.0.1:{port}"
        with tempfile.TemporaryDirectory() as tmp, running(
                [str(ROOT / ".venv/bin/gunicorn"), "-c", str(ROOT / "gunicorn.conf.py"),
                 "portal:create_app()"], ready=f"{url}/healthz", log=Path(tmp) / "g.log",
                timeout=120, what="gunicorn"):
            results = measure(url, pages, args)
    finally:
        drop_database(database_url)
    report(results, args)


if __name__ == "__main__":
    main()
