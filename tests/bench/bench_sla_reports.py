"""SLA report benchmark: last month's SLA report (figures, PDF, CSV, stored files) for 400
tenants in a throwaway database with 9 availability SLOs carrying a whole month of
per-minute samples and 300 customer-facing incidents.

Times the whole monthly batch (portal.tenants.sla_report_batch.run, e-mail off), then
rebuilds every tenant's report one by one for per-tenant figures (p50, p95, max), and
prints the load average before and after, since the machine is shared.

Run: .venv/bin/python tests/bench/bench_sla_reports.py [--tenants 400] [--incidents 300]
"""
from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import delete, text

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from portal.app import create_app  # noqa: E402
from portal.catalog import service as catalog  # noqa: E402
from portal.db import utcnow  # noqa: E402
from portal.extensions import db  # noqa: E402
from portal.incidents import service as incidents  # noqa: E402
from portal.integrations import s3 as s3_client  # noqa: E402
from portal.slo import specs  # noqa: E402
from portal.tenants import service as tenants  # noqa: E402
from portal.tenants import sla_report, sla_report_batch
from portal.tenants.models import PLANS  # noqa: E402
from portal.tenants.sla_report_models import SlaReport  # noqa: E402
from tests.conftest import create_database, drop_database  # noqa: E402

SERVICES = 9
# Mostly-good minutes with a few bad stretches, so the month lands near the targets.
GENERATE = """
INSERT INTO slo_samples (slo_id, minute, good, total)
SELECT s.id, m, CASE WHEN (extract(epoch FROM m)::bigint / 60 + s.id * 977) % 5000 < 4
                     THEN 0 ELSE t END, t
FROM unnest(CAST(:ids AS int[])) AS s(id),
     generate_series(CAST(:start AS timestamptz), CAST(:end AS timestamptz) - interval '1 minute',
                     interval '1 minute') AS m,
     LATERAL (SELECT (500 + (extract(epoch FROM m)::bigint / 60 + s.id) % 300)::bigint AS t) x
"""


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f}"


def seed(app, n_tenants: int, n_incidents: int, month) -> None:
    start, end = sla_report.month_span(month)
    rng = random.Random(7)
    with app.app_context(), db.session_scope() as session:
        team = catalog.upsert_team(session=session, slug="bench", name="Bench", chat_channel=None)
        ids = []
        for i in range(SERVICES):
            svc = catalog.upsert_service(session=session, slug=f"svc-{i}", team=team,
                                         name=f"Service {i}")
            spec = specs.clean({"name": "availability", "objective": "99.9",
                                "good_query": f'r{{service="svc-{i}",code!~"5.."}}',
                                "total_query": f'r{{service="svc-{i}"}}'})
            ids.append(specs.create(session=session, service=svc, spec=spec).id)
        slugs = []
        for i in range(n_tenants):
            plan = list(PLANS)[i % len(PLANS)]
            slugs.append(tenants.upsert(session=session, slug=f"bench-{i:03d}",
                                        name=f"Bench Tenant {i:03d}", plan=plan,
                                        region="us" if i % 2 else "eu").slug)
        began = time.perf_counter()
        session.execute(text(GENERATE), {"ids": ids, "start": start, "end": end})
        session.execute(text("INSERT INTO slo_sample_hours SELECT slo_id, date_trunc('hour', "
                             "minute, 'UTC'), sum(good), sum(total) FROM slo_samples "
                             "GROUP BY 1, 2"))
        session.execute(text("INSERT INTO slo_sample_days SELECT slo_id, date_trunc('day', "
                             "hour, 'UTC'), sum(good), sum(total) FROM slo_sample_hours "
                             "GROUP BY 1, 2"))
        rows = session.execute(text("SELECT count(*) FROM slo_samples")).scalar()
        print(f"seeded {rows:,} minute samples in {time.perf_counter() - began:.1f} s")
        for i in range(n_incidents):
            opened = start + timedelta(minutes=rng.randrange(int((end - start).total_seconds()
                                                                 // 60)))
            linked = [] if i % 10 == 0 else rng.sample(slugs, rng.randint(1, 4))
            found = incidents.declare(session=session, title=f"Bench incident {i}",
                                      severity=rng.choice(("sev1", "sev2", "sev3")),
                                      actor_email=None, tenant_slugs=linked,
                                      customer_facing=i % 7 != 0, opened_at=opened)
            found.status = "resolved"
            found.resolved_at = opened + timedelta(minutes=rng.randint(5, 300))
    with app.app_context(), db.engine.connect().execution_options(
            isolation_level="AUTOCOMMIT") as conn:
        for table in ("slo_samples", "slo_sample_hours", "slo_sample_days",
                      "incidents_incidents", "incidents_tenants"):
            conn.execute(text(f"VACUUM ANALYZE {table}"))


def per_tenant(app, month) -> list[float]:
    """Rebuild each tenant's report alone (after dropping the batch's rows)."""
    now = utcnow()
    config = app.config
    store = s3_client.from_config(config)
    with db.session_scope() as session:
        session.execute(delete(SlaReport))
        inputs = sla_report.month_inputs(session=session, month=month, now=now)
        ids = [t.id for t in tenants.list_all(session=session)]
    seconds = []
    for tenant_id in ids:
        began = time.perf_counter()
        assert sla_report_batch.build_one(tenant_id=tenant_id, inputs=inputs, store=store,
                                          bucket=config["S3_REPORTS_BUCKET"], now=now)
        seconds.append(time.perf_counter() - began)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tenants", type=int, default=400)
    parser.add_argument("--incidents", type=int, default=300)
    args = parser.parse_args()
    url = create_database("_slabench")
    month = sla_report.previous_month(utcnow().date())
    try:
        with tempfile.TemporaryDirectory() as objects:
            app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "TESTING": True,
                              "LOG_FORMAT": "text", "OBJECT_STORE_DIR": objects,
                              "SMTP_HOST": None})
            seed(app, args.tenants, args.incidents, month)
            print(f"before: {load()}")
            with app.app_context():
                began = time.perf_counter()
                result = sla_report_batch.run(month=month, now=utcnow())
                batch = time.perf_counter() - began
                print(f"batch: {result.built} reports for {month:%Y-%m} in {batch:.2f} s "
                      f"({batch / max(result.built, 1) * 1000:.1f} ms per tenant)")
                began = time.perf_counter()
                again = sla_report_batch.run(month=month, now=utcnow())
                print(f"second run (idempotent): built {again.built}, skipped {again.skipped} "
                      f"in {time.perf_counter() - began:.2f} s")
                seconds = per_tenant(app, month)
            ms = sorted(s * 1000 for s in seconds)
            print(f"per tenant, built alone: p50 {statistics.median(ms):.1f} ms, "
                  f"p95 {statistics.quantiles(ms, n=20)[18]:.1f} ms, max {ms[-1]:.1f} ms, "
                  f"sum {sum(ms) / 1000:.2f} s")
            print(f"after: {load()}")
            app.extensions["portal_db"].engine.dispose()
    finally:
        drop_database(url)


if __name__ == "__main__":
    main()
