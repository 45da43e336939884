"""Incremental rollups of the services' tables, one watermark per source table.

Orders change status after they are created, so a rollup row cannot simply be incremented:
each run finds the (tenant, order day) pairs touched since the watermark and recomputes
exactly those days (orders by warehouse/status and the fulfillment histogram). The scan
re-reads a short overlap before the watermark, because a transaction that committed late
may carry an `updated_at` older than rows already seen; recomputing a day is idempotent.
Low stock follows inventory.stock row by row: a changed row is upserted when at or below
the threshold and removed otherwise.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import Connection, delete, insert, select, text, tuple_
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from portal.db import utcnow
from portal.tenants import sources
from portal.tenants.models import (
    DURATION_BOUNDS, SLA_SECONDS, DailyFulfillment, DailyOrders, LowStock, Watermark,
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


@dataclass
class RefreshResult:
    days_recomputed: int = 0
    stock_rows_seen: int = 0
    sources_missing: tuple[str, ...] = ()


def _watermark(session: Session, source: str) -> Watermark:
    mark = session.get(Watermark, source, with_for_update=True)
    if mark is None:
        mark = Watermark(source=source, watermark=None, refreshed_at=utcnow())
        session.add(mark)
    return mark


def _since(mark: Watermark) -> datetime:
    return mark.watermark - OVERLAP if mark.watermark else datetime(1970, 1, 1, tzinfo=timezone.utc)


def refresh(*, session: Session, source: Connection, low_stock_threshold: int) -> RefreshResult:
    """Bring every rollup up to date with the services' tables read through `source`."""
    present = sources.present(source)
    result = RefreshResult(sources_missing=tuple(sorted(
        {sources.ORDERS, sources.SHIPMENTS, sources.STOCK} - present)))
    if {sources.ORDERS, sources.SHIPMENTS, "orders.order_lines"} <= present:
        result.days_recomputed = _refresh_orders(session, source)
    if sources.STOCK in present:
        result.stock_rows_seen = _refresh_stock(session, source, low_stock_threshold)
    session.flush()
    return result


def _refresh_orders(session: Session, source: Connection) -> int:
    mark = _watermark(session, sources.ORDERS)
    touched = source.execute(_TOUCHED, {"since": _since(mark)}).all()
    pairs = [(row.tenant_id, row.day) for row in touched]
    for start in range(0, len(pairs), BATCH_DAYS):
        recompute_days(session=session, source=source, pairs=pairs[start:start + BATCH_DAYS])
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


def _histograms(rows) -> list[dict]:
    merged: dict[tuple, dict] = defaultdict(lambda: {
        "shipments": 0, "within_sla": 0, "buckets": [0] * (len(DURATION_BOUNDS) + 1)})
    for row in rows:
        entry = merged[(row.tenant_id, row.day, row.warehouse)]
        entry["shipments"] += row.shipments
        entry["within_sla"] += row.within_sla
        entry["buckets"][row.bucket] += row.shipments
    return [{"tenant_id": t, "day": d, "warehouse": w, **v} for (t, d, w), v in merged.items()]


def _refresh_stock(session: Session, source: Connection, threshold: int) -> int:
    mark = _watermark(session, sources.STOCK)
    s = sources.stock
    # Per-statement options: Connection.execution_options() would change the connection
    # itself, which may be the session's own (and its writes cannot use a named cursor).
    rows = source.execute(
        select(s.c.tenant_id, s.c.sku, s.c.warehouse, s.c.on_hand, s.c.reserved,
               s.c.updated_at).where(s.c.updated_at > _since(mark)),
        execution_options={"stream_results": True, "yield_per": 5000})
    seen, newest = 0, mark.watermark
    for chunk in rows.partitions():
        seen += len(chunk)
        newest = max([newest, *(r.updated_at for r in chunk)] if newest else
                     [r.updated_at for r in chunk])
        _apply_stock(session, chunk, threshold)
    mark.watermark, mark.refreshed_at = newest, utcnow()
    return seen


def _apply_stock(session: Session, chunk, threshold: int) -> None:
    low = [{"tenant_id": r.tenant_id, "sku": r.sku, "warehouse": r.warehouse,
            "on_hand": r.on_hand, "reserved": r.reserved, "available": r.on_hand - r.reserved,
            "updated_at": r.updated_at} for r in chunk if r.on_hand - r.reserved <= threshold]
    healthy = [(r.tenant_id, r.sku, r.warehouse) for r in chunk
               if r.on_hand - r.reserved > threshold]
    if healthy:
        session.execute(delete(LowStock).where(
            tuple_(LowStock.tenant_id, LowStock.sku, LowStock.warehouse).in_(healthy)))
    if low:
        stmt = pg_insert(LowStock).values(low)
        session.execute(stmt.on_conflict_do_update(
            index_elements=["tenant_id", "sku", "warehouse"],
            set_={c: stmt.excluded[c] for c in ("on_hand", "reserved", "available",
                                                 "updated_at")}))


def data_as_of(*, session: Session) -> datetime | None:
    """When the least recently refreshed rollup source was last brought up to date."""
    return session.scalar(select(Watermark.refreshed_at).order_by(Watermark.refreshed_at)
                          .limit(1))
