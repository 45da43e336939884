"""Alert-to-page latency: a real Alertmanager fires, the portal (under gunicorn) creates the page.

Run: .venv/bin/python tests/bench/bench_alert_to_page.py [--alerts 20] [--rounds 3]
     (needs PostgreSQL on 127.0.0.1:5432 and the prometheus-alertmanager package)

Alertmanager runs with the production routing tree of infra/alertmanager/alertmanager.yml,
rendered the way `portal dev` renders it (the portal receiver pointed at this portal with a
bearer token file). Each round posts `--alerts` critical alerts, each its own group (distinct
alertname), to Alertmanager's API at once, then polls the portal's database for the page of
each. The route's group_wait (10 s in production) is the floor: Alertmanager holds a new
group that long before it notifies, so the figure printed beside p50/p95 is what the portal
adds on top of it (webhook, incident, page, commit). The baseline is a GET /healthz round
trip measured in the same rounds. Not run by CI.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import requests
import yaml
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from portal.app import create_app  # noqa: E402
from portal.demo.seed import seed_demo  # noqa: E402
from portal.dev_alerting import INFRA_DIR, binaries, render_alertmanager  # noqa: E402
from portal.extensions import db  # noqa: E402
from tests.conftest import FAST_ARGON2, create_database, drop_database  # noqa: E402
from tests.servers import free_port, running  # noqa: E402

TOKEN = "bench-alert-to-page-token"
GROUP_WAIT = 10.0


def alerts_for(round_no: int, count: int) -> list[dict]:
    """`count` critical alerts of the order service, each its own Alertmanager group."""
    now = datetime.now(UTC)
    return [{"labels": {"alertname": f"BenchPage{round_no}x{n}", "severity": "critical",
                        "service": "order"},
             "annotations": {"summary": f"bench-{round_no}-{n}"},
             "startsAt": now.isoformat(),
             "endsAt": (now + timedelta(hours=1)).isoformat()} for n in range(count)]


def one_round(am: str, portal: str, engine, round_no: int, count: int,
              timeout: float = 120.0) -> tuple[list[float], float]:
    """Latencies (s) from POST to Alertmanager to the page row, and a /healthz round trip."""
    started = time.perf_counter()
    requests.get(f"{portal}/healthz", timeout=10).raise_for_status()
    healthz = time.perf_counter() - started
    posted_at = datetime.now(UTC)
    response = requests.post(f"{am}/api/v2/alerts", json=alerts_for(round_no, count), timeout=10)
    response.raise_for_status()
    pattern = f"BenchPage{round_no}x%"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT created_at FROM oncall_pages WHERE title LIKE :p"),
                                {"p": pattern}).all()
        if len(rows) >= count:
            return [(row.created_at - posted_at).total_seconds() for row in rows], healthz
        time.sleep(0.05)
    raise SystemExit(f"round {round_no}: only {len(rows)} of {count} pages after {timeout} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alerts", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    am_bin, _ = binaries()
    if am_bin is None:
        raise SystemExit("prometheus-alertmanager is not installed")
    database_url = create_database("_bench_alert_page")
    try:
        app = create_app({"DATABASE_URL": database_url, "SECRET_KEY": "bench",
                          "CELERY_BROKER_URL": "memory://", "LOG_LEVEL": "WARNING"})
        with app.app_context(), db.session_scope() as session:
            seed_demo(session=session, argon2_params=FAST_ARGON2)
        app.extensions["portal_db"].engine.dispose()
        port, am_port = free_port(), free_port()
        os.environ.update({"DATABASE_URL": database_url, "SECRET_KEY": "bench",
                           "CELERY_BROKER_URL": "memory://", "LOG_LEVEL": "WARNING",
                           "ALERTMANAGER_WEBHOOK_TOKEN": TOKEN,
                           "GUNICORN_BIND": f"127.0.0.1:{port}"})
        os.chdir(ROOT)
        portal, am = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{am_port}"
        engine = create_engine(database_url)
        load_before = os.getloadavg()
        with tempfile.TemporaryDirectory() as tmp:
            home = Path(tmp)
            (home / "token").write_text(TOKEN)
            config = render_alertmanager(INFRA_DIR / "alertmanager" / "alertmanager.yml",
                                         webhook_url=f"{portal}/oncall/alertmanager/webhook",
                                         token_file=home / "token")
            (home / "am.yml").write_text(yaml.safe_dump(config))
            with running([str(ROOT / ".venv/bin/gunicorn"), "-c", str(ROOT / "gunicorn.conf.py"),
                          "portal:create_app()"], ready=f"{portal}/healthz",
                         log=home / "gunicorn.log", timeout=120, what="gunicorn"), \
                 running([am_bin, f"--config.file={home / 'am.yml'}",
                          f"--storage.path={home / 'data'}",
                          f"--web.listen-address=127.0.0.1:{am_port}", "--cluster.listen-address="],
                         ready=f"{am}/-/ready", log=home / "am.log", timeout=60,
                         what="Alertmanager"):
                latencies: list[float] = []
                health: list[float] = []
                for round_no in range(args.rounds):
                    got, healthz = one_round(am, portal, engine, round_no, args.alerts)
                    latencies += got
                    health.append(healthz)
        load_after = os.getloadavg()
        engine.dispose()
    finally:
        drop_database(database_url)
    latencies.sort()
    p50 = statistics.median(latencies)
    p95 = latencies[max(0, int(round(0.95 * len(latencies))) - 1)]
    print(f"{args.rounds} rounds of {args.alerts} critical alerts through Alertmanager "
          f"(group_wait {GROUP_WAIT:.0f} s) to the portal under gunicorn.conf.py, "
          f"{os.cpu_count()} cores")
    print(f"load average before {load_before[0]:.2f} {load_before[1]:.2f}, "
          f"after {load_after[0]:.2f} {load_after[1]:.2f} (1 and 5 min)")
    print(f"alert → page: p50 {p50:.2f} s, p95 {p95:.2f} s, max {latencies[-1]:.2f} s "
          f"(n={len(latencies)})")
    print(f"beyond group_wait: p50 {p50 - GROUP_WAIT:.2f} s, p95 {p95 - GROUP_WAIT:.2f} s; "
          f"a /healthz round trip: {statistics.median(health) * 1000:.1f} ms")


if __name__ == "__main__":
    main()
