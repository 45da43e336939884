"""Incremental rollups of the services' tables, one watermark per source table.

Orders change status after they are created, so a rollup row cannot simply be incremented:
each run finds the (tenant, order day) pairs touched since the watermark and recomputes
exactly those days (orders by warehouse/status and the fulfillment histogram). The scan
re-reads a short overlap before the watermark, because a transaction that committed late
may carry an `updated_at` older than rows already seen; recomputing a day is idempotent.
Low stock follows inventory.stock row by row: a changed row is upserted when at or below
the threshold and removed otherwise. API requests are summed per day and service from the
services' hourly counts (telemetry.api_requests), again recomputing only touched days.
Rows of tenants the portal does not know (deleted here, still in a service) are skipped.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import groupby

from sqlalchemy import Connection, delete, insert, select, text, tuple_
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from portal.db import utcnow
from portal.tenants import sources
from portal.tenants.models import (
    DURATION_BOUNDS,
    SLA_SECONDS,
    DailyApiRequests,
    DailyFulfillment,
    DailyOrders,
    LowStock,
    Tenant,
    Watermark,
)

OVERLAP = timedelta(minutes=2)
BATCH_DAYS = 500
_TOUCHED = text("""
    SELECT tenant_id, (created_at AT TIME ZONE 'UTC')::date AS day, max(updated_at) AS seen
    FROM orders.orders WHERE updated_at > :since GROUP BY 1, 2""")
_DAY_WINDOW = """
    FROM unnest(CAST(:tenants AS int[]), CAST(:days AS date[])) AS a(tenant_id, day)
    JOIN orders.orders o ON o.tenant_id = a.tenant_id
     AND o.created_at >= (a.day::timestamp AT TIME ZONE 'UTC')
     AND o.created_at < ((a.day + 1)::timestamp AT TIME ZONE 'UTC')"""
_ORDERS_BY_DAY = text(f"""
    SELECT a.tenant_id, a.day, coalesce(w.warehouse, 'main') AS warehouse, o.status,
           count(*) AS orders, sum(o.total_quantity) AS units
    {_DAY_WINDOW}
    LEFT JOIN LATERAL (SELECT min(l.warehouse) AS warehouse FROM orders.order_lines l
                       WHERE l.order_id = o.id) w ON true
    GROUP BY 1, 2, 3, 4""")
_FULFILLMENT_BY_DAY = text(f"""
    SELECT a.tenant_id, a.day, s.warehouse,
           width_bucket(extract(epoch FROM o.updated_at - coalesce(s.confirmed_at, s.created_at)),
                        CAST(:bounds AS double precision[])) AS bucket,
           count(*) AS shipments,
           count(*) FILTER (WHERE o.updated_at - coalesce(s.confirmed_at, s.created_at)
                            <= make_interval(secs => :sla)) AS within_sla
    {_DAY_WINDOW}
    JOIN fulfillment.shipments s ON s.order_id = o.id
    WHERE o.status = 'fulfilled'
    GROUP BY 1, 2, 3, 4""")
# The first run (no watermark) aggregates every order in one pass each, ordered so that a
# (tenant, day, warehouse) group is complete when the next one starts: recomputing day by
# day would probe order_lines once per order, half an hour at ten million orders.
_WAREHOUSE_OF_ORDER = """
    LEFT JOIN (SELECT order_id, min(warehouse) AS warehouse FROM orders.order_lines
               GROUP BY order_id) w ON w.order_id = o.id"""
_ALL_ORDERS = text(f"""
    SELECT o.tenant_id, (o.created_at AT TIME ZONE 'UTC')::date AS day,
           coalesce(w.warehouse, 'main') AS warehouse, o.status,
           count(*) AS orders, sum(o.total_quantity) AS units
    FROM orders.orders o {_WAREHOUSE_OF_ORDER}
    GROUP BY 1, 2, 3, 4""")
_ALL_FULFILLMENT = text("""
    SELECT o.tenant_id, (o.created_at AT TIME ZONE 'UTC')::date AS day, s.warehouse,
           width_bucket(extract(epoch FROM o.updated_at - coalesce(s.confirmed_at, s.created_at)),
                        CAST(:bounds AS double precision[])) AS bucket,
           count(*) AS shipments,
           count(*) FILTER (WHERE o.updated_at - coalesce(s.confirmed_at, s.created_at)
                            <= make_interval(secs => :sla)) AS within_sla
    FROM orders.orders o JOIN fulfillment.shipments s ON s.order_id = o.id
    WHERE o.status = 'fulfilled'
    GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3""")
# A server-side cursor read CHUNK rows at a time. The size must be given to partitions()
# itself: a per-statement yield_per does not size a Core result's partitions, which then
# hold every row at once (1.2 GB at a million orders).
CHUNK = 10_000
STREAM = {"stream_results": True}
# Arrays, not a tuple IN list: ten thousand row constructors exhaust the parser's stack.
_DELETE_HEALTHY = text("""
    DELETE FROM tenants_low_stock s
    USING unnest(CAST(:tenants AS int[]), CAST(:skus AS text[]), CAST(:warehouses AS text[]))
          AS h(tenant_id, sku, warehouse)
    WHERE s.tenant_id = h.tenant_id AND s.sku = h.sku AND s.warehouse = h.warehouse""")

_API_TOUCHED = text("""
    SELECT tenant_id, (hour AT TIME ZONE 'UTC')::date AS day, max(updated_at) AS seen
    FROM telemetry.api_requests WHERE updated_at > :since GROUP BY 1, 2""")
_ALL_API = text("""
    SELECT tenant_id, (hour AT TIME ZONE 'UTC')::date AS day, service, sum(requests) AS requests,
           sum(client_errors) AS client_errors, sum(server_errors) AS server_errors
    FROM telemetry.api_requests GROUP BY 1, 2, 3""")
_API_BY_DAY = text("""
    SELECT a.tenant_id, a.day, r.service, sum(r.requests) AS requests,
           sum(r.client_errors) AS client_errors, sum(r.server_errors) AS server_errors
    FROM unnest(CAST(:tenants AS int[]), CAST(:days AS date[])) AS a(tenant_id, day)
    JOIN telemetry.api_requests r ON r.tenant_id = a.tenant_id
     AND r.hour >= (a.day::timestamp AT TIME ZONE 'UTC')
     AND r.hour < ((a.day + 1)::timestamp AT TIME ZONE 'UTC')
    GROUP BY 1, 2, 3""")


@dataclass
class RefreshResult:
    days_recomputed: int = 0
    stock_rows_seen: int = 0
    api_days_recomputed: int = 0
    sources_missing: tuple[str, ...] = ()


def _watermark(session: Session, source: str) -> Watermark:
    mark = session.get(Watermark, source, with_for_update=True)
    if mark is None:
        mark = Watermark(source=source, watermark=None, refreshed_at=utcnow())
        session.add(mark)
    return mark


def _since(mark: Watermark) -> datetime:
    return mark.watermark - OVERLAP if mark.watermark else datetime(1970, 1, 1, tzinfo=UTC)


def refresh(*, session: Session, source: Connection, low_stock_threshold: int) -> RefreshResult:
    """Bring every rollup up to date with the services' tables read through `source`."""
    present = sources.present(source)
    result = RefreshResult(sources_missing=tuple(sorted(
        {sources.ORDERS, sources.SHIPMENTS, sources.STOCK, sources.API_REQUESTS} - present)))
    known = set(session.scalars(select(Tenant.id)))
    if {sources.ORDERS, sources.SHIPMENTS, "orders.order_lines"} <= present:
        result.days_recomputed = _refresh_source(session, source, known, sources.ORDERS,
                                                 _TOUCHED, _backfill_orders, recompute_days)
    if sources.STOCK in present:
        result.stock_rows_seen = _refresh_stock(session, source, low_stock_threshold, known)
    if sources.API_REQUESTS in present:
        result.api_days_recomputed = _refresh_source(
            session, source, known, sources.API_REQUESTS, _API_TOUCHED, _backfill_api,
            recompute_api_days)
    session.flush()
    return result


def _refresh_source(session: Session, source: Connection, known: set[int], name: str,
                    touched_sql, backfill, recompute) -> int:
    """Bring one source's rollup up to date: everything on the first run, else the
    (tenant, day) pairs touched since the watermark. The number of tenant-days rebuilt."""
    mark = _watermark(session, name)
    if mark.watermark is None:
        return backfill(session, source, known, mark)
    touched = source.execute(touched_sql, {"since": _since(mark)}).all()
    pairs = [(row.tenant_id, row.day) for row in touched if row.tenant_id in known]
    for start in range(0, len(pairs), BATCH_DAYS):
        recompute(session=session, source=source, pairs=pairs[start:start + BATCH_DAYS])
    if touched:
        mark.watermark = max(row.seen for row in touched)
    mark.refreshed_at = utcnow()
    return len(pairs)


def recompute_days(*, session: Session, source: Connection, pairs: list[tuple]) -> None:
    """Replace the rollup rows of these (tenant id, day) pairs with fresh aggregates."""
    params = {"tenants": [p[0] for p in pairs], "days": [p[1] for p in pairs]}
    orders = source.execute(_ORDERS_BY_DAY, params).mappings().all()
    fulfilled = source.execute(_FULFILLMENT_BY_DAY, {
        **params, "bounds": list(DURATION_BOUNDS), "sla": SLA_SECONDS}).all()
    for model in (DailyOrders, DailyFulfillment):
        session.execute(delete(model).where(tuple_(model.tenant_id, model.day).in_(pairs)))
    if orders:
        session.execute(insert(DailyOrders), [dict(r) for r in orders])
    histograms = _histograms(fulfilled)
    if histograms:
        session.execute(insert(DailyFulfillment), histograms)


def _backfill_orders(session: Session, source: Connection, known: set[int],
                     mark: Watermark) -> int:
    """Rebuild the order and fulfillment rollups from every order (the first run)."""
    # Read before the aggregates: what changes meanwhile is newer, and the next run's
    # overlap re-reads it.
    newest = source.scalar(text("SELECT max(updated_at) FROM orders.orders"))
    for model in (DailyOrders, DailyFulfillment):
        session.execute(delete(model))
    days = _copy_rows(session, DailyOrders, source.execute(_ALL_ORDERS,
                                                           execution_options=STREAM), known)
    fulfilled = source.execute(_ALL_FULFILLMENT, {"bounds": list(DURATION_BOUNDS),
                                                  "sla": SLA_SECONDS},
                               execution_options=STREAM)
    batch: list = []
    for _, group in groupby(fulfilled, key=lambda r: (r.tenant_id, r.day, r.warehouse)):
        batch.extend(r for r in group if r.tenant_id in known)
        if len(batch) >= CHUNK:
            session.execute(insert(DailyFulfillment), _histograms(batch))
            batch = []
    if batch:
        session.execute(insert(DailyFulfillment), _histograms(batch))
    mark.watermark, mark.refreshed_at = newest, utcnow()
    return len(days)


def _copy_rows(session: Session, model, result, known: set[int]) -> set[tuple]:
    """Insert a streamed result's rows of known tenants into `model`; their (tenant, day)s."""
    days: set[tuple] = set()
    for chunk in result.mappings().partitions(CHUNK):
        rows = [dict(r) for r in chunk if r["tenant_id"] in known]
        days.update((r["tenant_id"], r["day"]) for r in rows)
        if rows:
            session.execute(insert(model), rows)
    return days


def _histograms(rows) -> list[dict]:
    merged: dict[tuple, dict] = defaultdict(lambda: {
        "shipments": 0, "within_sla": 0, "buckets": [0] * (len(DURATION_BOUNDS) + 1)})
    for row in rows:
        entry = merged[(row.tenant_id, row.day, row.warehouse)]
        entry["shipments"] += row.shipments
        entry["within_sla"] += row.within_sla
        entry["buckets"][row.bucket] += row.shipments
    return [{"tenant_id": t, "day": d, "warehouse": w, **v} for (t, d, w), v in merged.items()]


def _refresh_stock(session: Session, source: Connection, threshold: int,
                   known: set[int]) -> int:
    mark = _watermark(session, sources.STOCK)
    s = sources.stock
    # Per-statement options: Connection.execution_options() would change the connection
    # itself, which may be the session's own (and its writes cannot use a named cursor).
    rows = source.execute(
        select(s.c.tenant_id, s.c.sku, s.c.warehouse, s.c.on_hand, s.c.reserved,
               s.c.updated_at).where(s.c.updated_at > _since(mark)),
        execution_options=STREAM)
    seen, newest = 0, mark.watermark
    # Half a chunk: an upsert of low rows binds seven parameters a row, and a statement
    # takes at most 65,535.
    for chunk in rows.partitions(CHUNK // 2):
        seen += len(chunk)
        newest = max([newest, *(r.updated_at for r in chunk)] if newest else
                     [r.updated_at for r in chunk])
        _apply_stock(session, [r for r in chunk if r.tenant_id in known], threshold)
    mark.watermark, mark.refreshed_at = newest, utcnow()
    return seen


def _apply_stock(session: Session, chunk, threshold: int) -> None:
    low = [{"tenant_id": r.tenant_id, "sku": r.sku, "warehouse": r.warehouse,
            "on_hand": r.on_hand, "reserved": r.reserved, "available": r.on_hand - r.reserved,
            "updated_at": r.updated_at} for r in chunk if r.on_hand - r.reserved <= threshold]
    healthy = [r for r in chunk if r.on_hand - r.reserved > threshold]
    if healthy:
        session.execute(_DELETE_HEALTHY, {"tenants": [r.tenant_id for r in healthy],
                                          "skus": [r.sku for r in healthy],
                                          "warehouses": [r.warehouse for r in healthy]})
    if low:
        stmt = pg_insert(LowStock).values(low)
        session.execute(stmt.on_conflict_do_update(
            index_elements=["tenant_id", "sku", "warehouse"],
            set_={c: stmt.excluded[c] for c in ("on_hand", "reserved", "available",
                                                 "updated_at")}))


def recompute_api_days(*, session: Session, source: Connection, pairs: list[tuple]) -> None:
    """Replace the API request rollup rows of these (tenant id, day) pairs."""
    rows = source.execute(_API_BY_DAY, {"tenants": [p[0] for p in pairs],
                                        "days": [p[1] for p in pairs]}).mappings().all()
    session.execute(delete(DailyApiRequests).where(
        tuple_(DailyApiRequests.tenant_id, DailyApiRequests.day).in_(pairs)))
    if rows:
        session.execute(insert(DailyApiRequests), [dict(r) for r in rows])


def _backfill_api(session: Session, source: Connection, known: set[int],
                  mark: Watermark) -> int:
    """Rebuild the API request rollup from every hourly row (the first run)."""
    newest = source.scalar(text("SELECT max(updated_at) FROM telemetry.api_requests"))
    session.execute(delete(DailyApiRequests))
    days = _copy_rows(session, DailyApiRequests,
                      source.execute(_ALL_API, execution_options=STREAM), known)
    mark.watermark, mark.refreshed_at = newest, utcnow()
    return len(days)


def data_as_of(*, session: Session) -> datetime | None:
    """When the least recently refreshed rollup source was last brought up to date."""
    return session.scalar(select(Watermark.refreshed_at).order_by(Watermark.refreshed_at)
                          .limit(1))
