"""Foundation benchmark: server time of the main pages against /healthz as the baseline.

Run: .venv/bin/python tests/bench/bench_foundation.py   (needs PostgreSQL on 127.0.0.1:5432)
Prints p50/p95 per page in ms and the ratio of each p95 to the baseline's p95, measured in
the same run, in-process through the WSGI test client (no network in the figure).
"""
from __future__ import annotations

import re
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from portal.app import create_app  # noqa: E402
from portal.demo import meridian  # noqa: E402
from portal.demo.seed import seed_demo  # noqa: E402
from portal.extensions import db  # noqa: E402
from tests.conftest import FAST_ARGON2, create_database, drop_database  # noqa: E402

ROUNDS = 300
PAGES = ["/healthz", "/", "/catalog/", "/catalog/services/order", "/tenants/",
         "/tenants/acme-retail", "/admin/audit", "/metrics"]


def percentile(samples: list[float], q: float) -> float:
    return statistics.quantiles(samples, n=100)[int(q) - 1]


def timed(client, path: str) -> list[float]:
    out = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        response = client.get(path)
        out.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, (path, response.status_code)
    return out


def main() -> None:
    url = create_database("_bench")
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "LOG_LEVEL": "WARNING",
                      "CELERY_BROKER_URL": "memory://", "ARGON2_PARAMS": FAST_ARGON2})
    try:
        with app.app_context(), db.session_scope() as session:
            seed_demo(session=session, argon2_params=FAST_ARGON2)
        client = app.test_client()
        page = client.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf-token" content="([^"]+)"', page)[1]
        email = "admin@meridian.example"
        client.post("/login", data={"email": email, "password": meridian.demo_password(email),
                                    "csrf_token": token})
        results = {path: timed(client, path) for path in PAGES}
        base = percentile(results["/healthz"], 95)
        print(f"{'page':32} {'p50 ms':>8} {'p95 ms':>8} {'p95 / healthz p95':>18}")
        for path, samples in results.items():
            p95 = percentile(samples, 95)
            print(f"{path:32} {statistics.median(samples):8.2f} {p95:8.2f} {p95 / base:18.1f}")
    finally:
        app.extensions["portal_db"].engine.dispose()
        drop_database(url)


if __name__ == "__main__":
    main()
