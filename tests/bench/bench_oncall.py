"""On-call benchmark: webhook ingestion rate with dedupe, and the alert board's server time
with 500 active alerts in a real Alertmanager.

Run: .venv/bin/python tests/bench/bench_oncall.py   (needs PostgreSQL on 127.0.0.1:5432 and
the Debian prometheus-alertmanager binary). Everything is in-process through the WSGI test
client, so the figures are server time without network.

1. Ingestion: 20,000 alert deliveries in Alertmanager-sized batches of 50 (half are repeats
   of already-known fingerprints, as Alertmanager re-sends groups), through the real
   endpoint (token check, validation, one upsert per batch, audit entry, commit).
   Baseline in the same run: the straightforward per-alert ORM approach (SELECT by
   fingerprint, then INSERT or UPDATE) on the same database. Target: >= 500 alerts/s.
2. Board: p95 of GET /oncall/alerts (htmx fragment) and GET /oncall/ with 500 active alerts;
   baseline: the same fragment with an empty Alertmanager. Target: p95 < 50 ms. Measured
   with the app's shared alert cache as configured (ONCALL_ALERTS_CACHE_SECONDS, 5 s) and
   with it off (0: every request pulls and decodes Alertmanager's list: a cache miss).
"""
from __future__ import annotations

import json
import re
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from sqlalchemy import select  # noqa: E402

from portal import events  # noqa: E402
from portal.app import create_app  # noqa: E402
from portal.db import utcnow  # noqa: E402
from portal.demo import meridian  # noqa: E402
from portal.demo.seed import seed_demo  # noqa: E402
from portal.extensions import db  # noqa: E402
from portal.integrations.alertmanager import AlertmanagerClient, iso  # noqa: E402
from portal.oncall.am import alert_cache  # noqa: E402
from portal.oncall.models import ReceivedAlert  # noqa: E402
from tests.conftest import FAST_ARGON2, create_database, drop_database  # noqa: E402
from tests.integration.oncall.amserver import running_alertmanager  # noqa: E402

TOKEN = "bench-token"
DELIVERIES, BATCH, DISTINCT = 20_000, 50, 10_000
ROUNDS = 200


def batch_body(start: int, space: int = 0) -> bytes:
    now = iso(utcnow())
    alerts = [{"status": "firing", "fingerprint": f"{space:04x}{(start + i) % DISTINCT:012x}",
               "labels": {"alertname": f"Alert{(start + i) % DISTINCT}", "severity": "warning",
                          "service": "order"}, "annotations": {"summary": "bench"},
               "startsAt": now, "endsAt": "0001-01-01T00:00:00Z"} for i in range(BATCH)]
    return json.dumps({"version": "4", "status": "firing", "receiver": "portal",
                       "groupKey": "bench", "alerts": alerts}).encode()


def ingest_endpoint(client, space: int = 0) -> float:
    bodies = [batch_body(i, space) for i in range(0, DELIVERIES, BATCH)]
    start = time.perf_counter()
    for body in bodies:
        response = client.post("/oncall/alertmanager/webhook", data=body,
                               content_type="application/json",
                               headers={"Authorization": f"Bearer {TOKEN}"})
        assert response.status_code == 200, response.get_data(as_text=True)
    return DELIVERIES / (time.perf_counter() - start)


def ingest_naive(app) -> float:
    """Baseline: per-alert SELECT then INSERT/UPDATE through the ORM, one commit per batch."""
    payloads = [json.loads(batch_body(i))["alerts"] for i in range(0, DELIVERIES, BATCH)]
    start = time.perf_counter()
    with app.app_context():
        for alerts in payloads:
            with db.session_scope() as session:
                for a in alerts:
                    fp = "n" + a["fingerprint"]
                    row = session.scalar(select(ReceivedAlert).where(
                        ReceivedAlert.fingerprint == fp))
                    if row is None:
                        session.add(ReceivedAlert(
                            fingerprint=fp, status=a["status"], labels=a["labels"],
                            annotations=a["annotations"], starts_at=utcnow(),
                            severity="warning", received_count=1))
                    else:
                        row.status, row.received_count = a["status"], row.received_count + 1
                    session.flush()
    return DELIVERIES / (time.perf_counter() - start)


def p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=100)[94]


def timed(client, path: str, htmx: bool) -> list[float]:
    headers = {"HX-Request": "true"} if htmx else {}
    out = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        response = client.get(path, headers=headers)
        out.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200
    return out


def push_alerts(url: str, n: int) -> None:
    now = utcnow()
    services = list(meridian.SERVICES)
    AlertmanagerClient(url).post_alerts([{
        "labels": {"alertname": f"BenchAlert{i}", "service": services[i % len(services)],
                   "severity": ("critical", "warning", "info")[i % 3]},
        "annotations": {"summary": f"alert {i}"}, "startsAt": iso(now),
        "endsAt": iso(now + timedelta(hours=1))} for i in range(n)])


def signed_in(app):
    client = app.test_client()
    token = re.search(r'name="csrf-token" content="([^"]+)"',
                      client.get("/login").get_data(as_text=True))[1]
    email = "oncall@meridian.example"
    client.post("/login", data={"email": email, "password": meridian.demo_password(email),
                                "csrf_token": token})
    return client


def board(app) -> None:
    with tempfile.TemporaryDirectory() as tmp, running_alertmanager(Path(tmp)) as url:
        app.config["ALERTMANAGER_URL"] = url
        client = signed_in(app)
        empty = timed(client, "/oncall/alerts", htmx=True)
        push_alerts(url, 500)
        with app.app_context():
            alert_cache().clear()  # as after max_age: the next request pulls the 500 alerts
        assert "500 alert(s)" in client.get("/oncall/alerts").get_data(as_text=True)
        full = {"/oncall/alerts (fragment)": timed(client, "/oncall/alerts", htmx=True),
                "/oncall/ (page)": timed(client, "/oncall/", htmx=False)}
        app.config["ONCALL_ALERTS_CACHE_SECONDS"] = 0.0
        full["/oncall/alerts, no cache"] = timed(client, "/oncall/alerts", htmx=True)
        full["/oncall/, no cache"] = timed(client, "/oncall/", htmx=False)
        app.config["ONCALL_ALERTS_CACHE_SECONDS"] = 5.0
        base = p95(empty)
        print(f"\n{'board, 500 active alerts':30} {'p50 ms':>8} {'p95 ms':>8} "
              f"{'p95 / empty p95':>16}")
        print(f"{'/oncall/alerts, empty (base)':30} {statistics.median(empty):8.2f} "
              f"{base:8.2f} {1:16.1f}")
        for name, samples in full.items():
            print(f"{name:30} {statistics.median(samples):8.2f} {p95(samples):8.2f} "
                  f"{p95(samples) / base:16.1f}")


def main() -> None:
    url = create_database("_bench_oncall")
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "LOG_LEVEL": "WARNING",
                      "CELERY_BROKER_URL": "memory://", "ARGON2_PARAMS": FAST_ARGON2,
                      "ALERTMANAGER_WEBHOOK_TOKEN": TOKEN, "ALERTMANAGER_TIMEOUT": 3.0,
                      "ONCALL_ALERTS_CACHE_SECONDS": 5.0})
    try:
        with app.app_context(), db.session_scope() as session:
            seed_demo(session=session, argon2_params=FAST_ARGON2)
        naive = ingest_naive(app)
        with events.alert_received.muted():  # on-call's own work: no downstream receivers
            ours = ingest_endpoint(app.test_client())
        # The same volume again on fresh fingerprints with every receiver connected, as in
        # production: each new alert also goes through the incidents domain's receiver.
        with_receivers = ingest_endpoint(app.test_client(), space=1)
        print(f"{'webhook ingestion':36} {'alerts/s':>10} {'ratio to baseline':>18}")
        print(f"{'per-alert ORM (baseline)':36} {naive:10.0f} {1:18.1f}")
        print(f"{'endpoint, batched upsert':36} {ours:10.0f} {ours / naive:18.1f}")
        print(f"{'endpoint + incidents receiver':36} {with_receivers:10.0f} "
              f"{with_receivers / naive:18.1f}")
        print(f"target >= 500 alerts/s: on-call alone {'met' if ours >= 500 else 'NOT met'}, "
              f"with receivers {'met' if with_receivers >= 500 else 'NOT met'}")
        board(app)
    finally:
        app.extensions["portal_db"].engine.dispose()
        drop_database(url)


if __name__ == "__main__":
    main()
