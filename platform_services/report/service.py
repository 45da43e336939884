"""Tenant reports as CSV in S3, read from the read replica when one is configured and
cached in Redis for 15 minutes (data freshness within 15 minutes of source)."""
from __future__ import annotations

import csv
import io
import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import redis
from sqlalchemy import text
from sqlalchemy.engine import Engine

from platform_services.common.base import Foundation
from platform_services.common.chunks import parts
from platform_services.common.storage import ObjectStore

log = logging.getLogger(__name__)
QUERIES = {
    "orders_by_day": (
        ("day", "status", "orders", "units"),
        "SELECT date_trunc('day', created_at)::date AS day, status, count(*) AS orders, "
        "sum(total_quantity) AS units FROM orders.orders WHERE tenant_id = :t "
        "AND created_at >= now() - make_interval(days => :days) GROUP BY 1, 2 ORDER BY 1, 2"),
    "stock_levels": (
        ("sku", "warehouse", "on_hand", "reserved", "available"),
        "SELECT sku, warehouse, on_hand, reserved, on_hand - reserved AS available "
        "FROM inventory.stock WHERE tenant_id = :t ORDER BY sku, warehouse"),
}


def _rows(engine: Engine, kind: str, tenant_id: int, days: int) -> Iterator[bytes]:
    header, sql = QUERIES[kind]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    with engine.connect() as conn:
        result = conn.execution_options(stream_results=True, yield_per=1000).execute(
            text(sql), {"t": tenant_id, "days": days})
        for row in result:
            writer.writerow(row)
            if buffer.tell() > 64 * 1024:
                yield buffer.getvalue().encode()
                buffer.seek(0)
                buffer.truncate()
    yield buffer.getvalue().encode()


def generate(base: Foundation, replica: Engine, store: ObjectStore, *, tenant_id: int,
             kind: str, days: int) -> dict[str, Any]:
    """The report's location, from the 15-minute cache or freshly written to S3."""
    cache_key = base.key("report", tenant_id, kind, days)
    cached = _cached(base.redis, cache_key)
    if cached is not None:
        base.metrics.event("report", "cached")
        return {**cached, "cached": True}
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    key = f"reports/tenant-{tenant_id}/{kind}-{days}d-{stamp}.csv"
    size = store.put_stream(base.config.reports_bucket, key,
                            parts(_rows(replica, kind, tenant_id, days), 5 * 1024 * 1024),
                            "text/csv")
    found = {"bucket": base.config.reports_bucket, "key": key, "bytes": size,
             "generated_at": stamp}
    if base.redis is not None:
        try:
            base.redis.set(cache_key, json.dumps(found), ex=base.config.report_cache_seconds)
        except redis.RedisError as exc:
            log.warning("report cache not written: %s", exc)
    base.metrics.event("report", "generated")
    return {**found, "cached": False}


def _cached(client: redis.Redis | None, key: str) -> dict[str, Any] | None:
    if client is None:
        return None
    try:
        raw = client.get(key)
    except redis.RedisError as exc:
        log.warning("report cache unavailable: %s", exc)
        return None
    return json.loads(raw) if raw else None
