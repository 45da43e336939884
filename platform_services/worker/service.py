"""Jobs: created by API, delivered by RabbitMQ (or found by the database poller when no
broker is configured), run under a distributed lock, with exports streamed to S3."""
from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Iterator
from typing import Any

from sqlalchemy import func, select, text, update
from sqlalchemy.engine import Connection, Engine

from platform_services.common.base import Foundation
from platform_services.common.chunks import parts
from platform_services.common.locks import job_lock
from platform_services.common.outbox import enqueue
from platform_services.common.storage import ObjectStore
from platform_services.worker.models import jobs, outbox

log = logging.getLogger(__name__)
ORDER_COLUMNS = "o.id, o.status, o.customer_ref, o.total_quantity, o.created_at"


def _public(row) -> dict[str, Any]:
    return {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in row.items()}


def create(conn: Connection, *, tenant_id: int, kind: str, params: dict) -> dict[str, Any]:
    """A queued job plus the message that will start it."""
    job_id = str(uuid.uuid4())
    conn.execute(jobs.insert().values(id=job_id, tenant_id=tenant_id, kind=kind, params=params))
    enqueue(conn, outbox, exchange="reports.scheduled", routing_key=f"job.{kind}",
            payload={"job_id": job_id, "tenant_id": tenant_id, "kind": kind})
    job = get(conn, tenant_id=tenant_id, job_id=job_id)
    assert job is not None  # inserted just above, in this transaction
    return job


def get(conn: Connection, *, tenant_id: int, job_id: str) -> dict[str, Any] | None:
    """One of the tenant's jobs."""
    try:
        job_id = str(uuid.UUID(job_id))
    except ValueError:
        return None
    row = conn.execute(select(jobs).where(jobs.c.id == job_id, jobs.c.tenant_id == tenant_id)
                       ).mappings().first()
    return _public(row) if row else None


def _finish(engine: Engine, job_id: str, **values: Any) -> None:
    with engine.begin() as conn:
        conn.execute(update(jobs).where(jobs.c.id == job_id)
                     .values(finished_at=func.now(), **values))


def run(base: Foundation, store: ObjectStore, job_id: str) -> str:
    """Run a queued job once; returns its final status (or its current one if not queued)."""
    with base.engine.begin() as conn:
        job = conn.execute(select(jobs).where(jobs.c.id == job_id)).mappings().first()
    if job is None or job["status"] != "queued":
        return job["status"] if job else "missing"
    lock_name = base.key("lock", "job", job["kind"], job["tenant_id"])
    with job_lock(client=base.redis, engine=base.engine, name=lock_name) as held:
        if not held:
            _finish(base.engine, job_id, status="skipped",
                    error="another run of this job holds the lock")
            base.metrics.event("job", "skipped")
            return "skipped"
        with base.engine.begin() as conn:
            claimed = conn.execute(update(jobs).where(jobs.c.id == job_id,
                                                      jobs.c.status == "queued")
                                   .values(status="running", started_at=func.now()))
        if claimed.rowcount != 1:
            return "running"
        return _execute(base, store, dict(job))


def _execute(base: Foundation, store: ObjectStore, job: dict[str, Any]) -> str:
    started = time.perf_counter()
    key = f"exports/tenant-{job['tenant_id']}/{job['id']}.ndjson"
    counter = {"rows": 0}
    try:
        written = store.put_stream(base.config.reports_bucket, key,
                                   parts(_export_lines(base.engine, job["tenant_id"], counter),
                                         base.config.export_chunk_bytes),
                                   "application/x-ndjson")
    except Exception as exc:  # the job is marked failed and the error kept for the user
        log.exception("job %s failed", job["id"])
        _finish(base.engine, job["id"], status="failed", error=f"{type(exc).__name__}: {exc}")
        base.metrics.event("job", "failed")
        return "failed"
    with base.engine.begin() as conn:
        conn.execute(update(jobs).where(jobs.c.id == job["id"]).values(
            status="succeeded", object_key=key, bytes_written=written,
            rows_written=counter["rows"], finished_at=func.now()))
        enqueue(conn, outbox, exchange="notifications", routing_key="export.ready",
                payload={"job_id": job["id"], "tenant_id": job["tenant_id"],
                         "bucket": base.config.reports_bucket, "key": key})
    base.metrics.event("job", "succeeded")
    base.metrics.stage_seconds.labels(base.metrics.service, "job").observe(
        time.perf_counter() - started)
    return "succeeded"


def _export_lines(engine: Engine, tenant_id: int, counter: dict) -> Iterator[bytes]:
    """The tenant's orders as JSON lines, read with a server-side cursor (bounded memory)."""
    stmt = text(f"SELECT {ORDER_COLUMNS}, coalesce(json_agg(json_build_object("
                "'sku', l.sku, 'quantity', l.quantity)) FILTER (WHERE l.id IS NOT NULL), "
                "'[]') AS lines FROM orders.orders o LEFT JOIN orders.order_lines l "
                "ON l.order_id = o.id WHERE o.tenant_id = :t GROUP BY o.id ORDER BY o.created_at")
    with engine.connect() as conn:
        result = conn.execution_options(stream_results=True, yield_per=500).execute(
            stmt, {"t": tenant_id})
        for row in result.mappings():
            counter["rows"] += 1
            yield (json.dumps(_public(row), default=str) + "\n").encode()


def queued_ids(engine: Engine, limit: int = 10) -> list[str]:
    """Jobs waiting longer than a moment (the poller's work when no broker delivers)."""
    with engine.connect() as conn:
        return [str(i) for i in conn.scalars(
            select(jobs.c.id).where(jobs.c.status == "queued",
                                    jobs.c.created_at < func.now() - func.make_interval(
                                        0, 0, 0, 0, 0, 0, 1))
            .order_by(jobs.c.created_at).limit(limit))]
