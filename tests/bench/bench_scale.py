"""The on-call board and alert actions with 10,000 active alerts, and the catalog with
20,000 entries, over HTTP under the production server.

    .venv/bin/python tests/bench/bench_scale.py [--alerts 10000] [--entities 20000]
        [--requests 100] [--only oncall incidents ...]

A throwaway database gets Meridian's demo data, then `--alerts` firing alerts as the
Alertmanager webhook stores them (spread over the catalog's services and three
severities; none linked to an incident, so each also waits on the incidents page for a
human), open pages for the on-call user to acknowledge, and `--entities` more catalog entries. The portal runs under
gunicorn with `gunicorn.conf.py`; the demo admin signs in through the login form and each
measure is `--requests` sequential requests alternating with GET /healthz (the baseline),
so a change of machine load hits both. Prints p50/p95 per measure and the load average.
`--only` keeps the measures whose name contains one of the given words.
Target: p95 < 100 ms for each. Not run by CI.
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
from sqlalchemy import select, text

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from portal.app import create_app  # noqa: E402
from portal.auth.models import User  # noqa: E402
from portal.demo import meridian  # noqa: E402
from portal.demo.seed import seed_demo  # noqa: E402
from portal.extensions import db  # noqa: E402
from portal.incidents.models import Incident  # noqa: E402
from portal.oncall.models import Page  # noqa: E402
from tests.conftest import FAST_ARGON2, create_database, drop_database  # noqa: E402
from tests.servers import free_port, running  # noqa: E402

EMAIL = "admin@meridian.example"
WORDS = ["orders", "stock", "warehouse", "labels", "invoices", "sessions", "tokens", "reports",
         "exports", "queues", "search", "index", "cache", "locks", "payments", "carriers"]


def seed_alerts(session, count: int) -> None:
    """`count` firing alerts in the webhook's table (the only one), none linked yet."""
    params = {"n": count}
    session.execute(text("""
        INSERT INTO oncall_alerts (fingerprint, status, labels, annotations, starts_at,
                                   severity, service, last_received_at, received_count)
        SELECT 'bench' || lpad(i::text, 8, '0'), 'firing',
               jsonb_build_object('alertname', 'BenchAlert' || (i % 400),
                                  'service', s.slug, 'severity', sev, 'instance', 'i' || i),
               jsonb_build_object('summary', 'generated alert ' || i), now(), sev, s.slug,
               now(), 1
        FROM generate_series(1, :n) AS i
        CROSS JOIN LATERAL (SELECT (ARRAY['critical', 'warning', 'info'])[1 + i % 3] AS sev)
            AS v
        JOIN LATERAL (SELECT slug FROM services WHERE kind = 'service'
                      ORDER BY id OFFSET i % 9 LIMIT 1) AS s ON true"""), params)
    session.execute(text("analyze oncall_alerts"))


def seed_pages(session, count: int) -> list[int]:
    """Open pages assigned to the admin (one per incident), for acknowledging."""
    admin = session.scalar(select(User).where(User.email == EMAIL))
    ids = []
    for n in range(count):
        incident = Incident(title=f"Bench incident {n}", severity="sev3", status="triggered")
        session.add(incident)
        session.flush()
        page = Page(incident_id=incident.id, severity="sev3", title=incident.title,
                    status="triggered", step=1, assignee_id=admin.id,
                    due_at=incident.opened_at)
        session.add(page)
        session.flush()
        ids.append(page.id)
    return ids


def seed_catalog(session, count: int) -> None:
    """`count` more catalog entries, a few depending on Meridian's own services."""
    team = session.execute(text("select id from teams order by id limit 1")).scalar_one()
    words = "ARRAY[" + ",".join(f"'{w}'" for w in WORDS) + "]"
    session.execute(text(f"""
        INSERT INTO services (slug, name, kind, tier, team_id, purpose, slo_summary,
                              failure_modes)
        SELECT 'synthetic-' || i, 'Synthetic ' || i, 'service', 1 + i % 3, :team,
               'Handles ' || ({words})[1 + i % 16] || ' and ' || ({words})[1 + (i / 16) % 16]
               || ' for tenant workloads number ' || i, '99.9% availability',
               jsonb_build_array('Failure of ' || ({words})[1 + i % 7])
        FROM generate_series(1, :n) AS i"""), {"team": team, "n": count})
    session.execute(text("""
        INSERT INTO service_dependencies (service_id, depends_on_id, purpose, critical)
        SELECT s.id, o.id, 'calls', true FROM services s, services o
        WHERE s.slug LIKE 'synthetic-%' AND s.id % 50 = 0 AND o.slug = 'order'"""))
    session.execute(text("analyze services; analyze service_dependencies"))


def sign_in(url: str) -> tuple[requests.Session, str]:
    http = requests.Session()
    page = http.get(f"{url}/login", timeout=30).text
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    done = http.post(f"{url}/login", data={"email": EMAIL, "csrf_token": token,
                                           "password": meridian.demo_password(EMAIL)},
                     timeout=30, allow_redirects=False)
    assert done.status_code == 303, done.status_code
    home = http.get(f"{url}/", timeout=30).text
    return http, re.search(r'name="csrf-token" content="([^"]+)"', home).group(1)


def timed(http, method: str, url: str, **kwargs) -> float:
    start = time.perf_counter()
    answer = http.request(method, url, timeout=60, allow_redirects=False, **kwargs)
    took = (time.perf_counter() - start) * 1000
    assert answer.status_code in (200, 303), (url, answer.status_code, answer.text[:300])
    return took


def measures(url: str, csrf: str, pages: list[int], alert_ids: list[str]) -> dict:
    """name -> a function taking a request number and returning (method, url, kwargs)."""
    form = {"csrf_token": csrf}
    return {
        "on-call board GET /oncall/": lambda n: ("GET", f"{url}/oncall/", {}),
        "alert fragment GET /oncall/alerts": lambda n: (
            "GET", f"{url}/oncall/alerts", {"headers": {"HX-Request": "true"}}),
        "open a group /oncall/alerts?open=": lambda n: (
            "GET", f"{url}/oncall/alerts?open=order/critical", {}),
        "acknowledge POST /oncall/pages/<id>/ack": lambda n: (
            "POST", f"{url}/oncall/pages/{pages[n]}/ack", {"data": form}),
        "silence from an alert GET /oncall/silences/new": lambda n: (
            "GET", f"{url}/oncall/silences/new?m_name=alertname&m_value=BenchAlert{n % 400}", {}),
        "link to an incident POST /incidents/alerts/<fp>/declare": lambda n: (
            "POST", f"{url}/incidents/alerts/{alert_ids[n]}/declare",
            {"data": {**form, "severity": "sev3"}}),
        "incidents GET /incidents/": lambda n: ("GET", f"{url}/incidents/", {}),
        "catalog list GET /catalog/": lambda n: ("GET", f"{url}/catalog/?page={1 + n % 200}", {}),
        "catalog search GET /catalog/search": lambda n: (
            "GET", f"{url}/catalog/search?q={WORDS[n % 16]}+{WORDS[(n + 5) % 16]}", {}),
        "service page GET /catalog/services/<slug>": lambda n: (
            "GET", f"{url}/catalog/services/synthetic-{1 + n * 37}", {}),
        "service page GET /catalog/services/order": lambda n: (
            "GET", f"{url}/catalog/services/order", {}),
    }


def p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[max(0, int(round(0.95 * len(ordered))) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alerts", type=int, default=10_000)
    parser.add_argument("--entities", type=int, default=20_000)
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--only", nargs="*", default=[],
                        help="measure only those whose name contains one of these words")
    args = parser.parse_args()
    database_url = create_database("_bench_scale")
    try:
        app = create_app({"DATABASE_URL": database_url, "SECRET_KEY": "b" * 40,
                          "CELERY_BROKER_URL": "memory://", "LOG_LEVEL": "WARNING"})
        with app.app_context(), db.session_scope() as session:
            seed_demo(session=session, argon2_params=FAST_ARGON2)
            seed_alerts(session, args.alerts)
            seed_catalog(session, args.entities)
            pages = seed_pages(session, args.requests + 2)
            alert_ids = list(session.execute(text(
                "select fingerprint from oncall_alerts where fingerprint like 'bench%' "
                "order by fingerprint limit :n"), {"n": args.requests + 2}).scalars())
        app.extensions["portal_db"].engine.dispose()
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
            http, csrf = sign_in(url)
            results = {}
            for name, request in measures(url, csrf, pages, alert_ids).items():
                if args.only and not any(word in name for word in args.only):
                    continue
                load = os.getloadavg()[0]
                method, target, kwargs = request(args.requests)  # warm (and the spare row)
                timed(http, method, target, **kwargs)
                own, base = [], []
                for n in range(args.requests):
                    method, target, kwargs = request(n)
                    own.append(timed(http, method, target, **kwargs))
                    base.append(timed(http, "GET", f"{url}/healthz"))
                results[name] = (own, base, load)
                print(f"{name:56} p50 {statistics.median(own):7.1f} ms  p95 {p95(own):7.1f} ms"
                      f"  (/healthz p95 {p95(base):5.1f} ms, load {load:.2f})", flush=True)
    finally:
        drop_database(database_url)
    print(f"\n{args.alerts:,} firing alerts, {args.entities:,} extra catalog entries; "
          f"{args.requests} requests per measure alternating with /healthz; gunicorn.conf.py "
          f"on {os.cpu_count()} cores. Target p95 < 100 ms:")
    for name, (own, _, _) in results.items():
        print(f"  {name:56} {'met' if p95(own) < 100 else 'NOT met'}")


if __name__ == "__main__":
    main()
