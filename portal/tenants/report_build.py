"""Building a report: rows streamed from a server-side cursor into a multipart S3 upload.

Nothing holds the whole report: the cursor yields rows in batches, the CSV writer turns
them into chunks, and the S3 client buffers one part at a time. PDFs (for people, not
machines) list at most TENANTS_PDF_MAX_ROWS rows and say so.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Connection, func, select, text, update
from sqlalchemy.orm import Session

from portal.db import utcnow
from portal.integrations.folder_store import FolderStore
from portal.integrations.s3 import S3Client, StoredObject
from portal.tenants import reports, sources
from portal.tenants.models import DailyOrders, Report, Tenant
from portal.tenants.report_files import csv_chunks, pdf_chunks
from portal.tenants.report_rows import RowCounter

BATCH = 2000
_WAREHOUSE = """LEFT JOIN LATERAL (SELECT coalesce(min(l.warehouse), 'main') AS warehouse
                FROM orders.order_lines l WHERE l.order_id = o.id) w ON true"""
QUERIES = {
    "orders": (("order_id", "created_at", "status", "customer_ref", "units", "warehouse"),
               {sources.ORDERS, "orders.order_lines"}, f"""
        SELECT o.id, o.created_at, o.status, o.customer_ref, o.total_quantity, w.warehouse
        FROM orders.orders o {_WAREHOUSE}
        WHERE o.tenant_id = :t AND o.created_at >= :start AND o.created_at < :end
          AND (CAST(:w AS text) IS NULL OR w.warehouse = :w)
        ORDER BY o.created_at, o.id"""),
    "fulfillment": (("order_id", "warehouse", "carrier", "tracking_number", "status",
                     "confirmed_at", "fulfilled_at", "minutes_to_fulfill"),
                    {sources.ORDERS, sources.SHIPMENTS}, """
        SELECT s.order_id, s.warehouse, s.carrier, s.tracking_number, s.status,
               s.confirmed_at, CASE WHEN o.status = 'fulfilled' THEN o.updated_at END,
               CASE WHEN o.status = 'fulfilled' THEN round(CAST(extract(epoch FROM
                   o.updated_at - coalesce(s.confirmed_at, s.created_at)) / 60 AS numeric), 2)
               END
        FROM fulfillment.shipments s JOIN orders.orders o ON o.id = s.order_id
        WHERE s.tenant_id = :t AND s.created_at >= :start AND s.created_at < :end
          AND (CAST(:w AS text) IS NULL OR s.warehouse = :w)
        ORDER BY s.created_at, s.order_id"""),
    "inventory": (("sku", "warehouse", "on_hand", "reserved", "available", "updated_at"),
                  {sources.STOCK}, """
        SELECT sku, warehouse, on_hand, reserved, on_hand - reserved, updated_at
        FROM inventory.stock WHERE tenant_id = :t
          AND (CAST(:w AS text) IS NULL OR warehouse = :w)
        ORDER BY sku, warehouse"""),
    "usage": (("day", "warehouse", "orders", "units", "fulfilled", "canceled"), set(), """
        SELECT day, warehouse, sum(orders), sum(units),
               coalesce(sum(orders) FILTER (WHERE status = 'fulfilled'), 0),
               coalesce(sum(orders) FILTER (WHERE status = 'canceled'), 0)
        FROM tenants_daily_orders WHERE tenant_id = :t AND day >= :day_from AND day <= :day_to
          AND (CAST(:w AS text) IS NULL OR warehouse = :w)
        GROUP BY day, warehouse ORDER BY day, warehouse"""),
}
MISSING = {"orders": "Order data", "fulfillment": "Fulfillment data",
           "inventory": "Inventory data", "usage": "Usage data"}


class ReportUnavailable(RuntimeError):
    """The data this report needs is not in the reporting database."""


def tenant_name(*, session: Session, tenant_id: int) -> str:
    """The name a report's PDF is headed with."""
    return session.get_one(Tenant, tenant_id).name


def start(*, session: Session, report_id: int) -> Report | None:
    """Move a queued report to running (None when it is gone or already handled)."""
    report = session.get(Report, report_id, with_for_update=True)
    if report is None or report.status != "queued":
        return None
    report.status, report.started_at, report.rows_written = "running", utcnow(), 0
    if report.kind == "orders":
        stmt = select(func.sum(DailyOrders.orders)).where(
            DailyOrders.tenant_id == report.tenant_id,
            DailyOrders.day.between(report.date_from, report.date_to))
        if report.warehouse:
            stmt = stmt.where(DailyOrders.warehouse == report.warehouse)
        report.expected_rows = session.scalar(stmt)
    session.flush()
    return report


def rows(conn: Connection, report: Report) -> tuple[tuple[str, ...], Iterator[tuple]]:
    """The header and a streamed row iterator of a report, scoped to its tenant."""
    header, needs, sql = QUERIES[report.kind]
    if not needs <= sources.present(conn):
        raise ReportUnavailable(f"{MISSING[report.kind]} is not available in this installation.")
    params = {"t": report.tenant_id, "w": report.warehouse, "day_from": report.date_from,
              "day_to": report.date_to,
              "start": _midnight(report.date_from),
              "end": _midnight(report.date_to + timedelta(days=1))}
    result = conn.execute(text(sql), params,  # a server-side cursor, BATCH rows at a time
                          execution_options={"stream_results": True, "yield_per": BATCH})
    return header, (tuple(row) for row in result)


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def write(*, report: Report, source: Connection, s3: S3Client | FolderStore, bucket: str,
          pdf_max_rows: int, on_progress: Callable[[int], None],
          tenant_name: str) -> tuple[StoredObject, int, bool]:
    """Stream the report into S3; returns (stored object, rows written, truncated)."""
    header, stream = rows(source, report)
    counter: RowCounter = {"rows": 0, "truncated": False}
    if report.fmt == "csv":
        chunks = csv_chunks(header, stream, counter, on_progress)
        content_type = "text/csv"
    else:
        document = {"tenant_name": tenant_name, "title": f"{report.kind.title()} report"
                    + (f" ({report.warehouse})" if report.warehouse else ""),
                    "kind": report.kind, "date_from": report.date_from,
                    "date_to": report.date_to, "generated_at": utcnow()}
        chunks = pdf_chunks(document, header, stream, counter, on_progress, pdf_max_rows)
        content_type = "application/pdf"
    s3.ensure_bucket(bucket)
    stored = s3.upload_stream(bucket, reports.object_key(report), chunks,
                              content_type=content_type)
    return stored, counter["rows"], counter["truncated"]


def progress(*, session: Session, report_id: int, rows_written: int) -> None:
    """Record how many rows a running report has written so far."""
    session.execute(update(Report).where(Report.id == report_id)
                    .values(rows_written=rows_written)
                    # a plain UPDATE: Report objects loaded in the session are left as they are
                    .execution_options(synchronize_session=False))


def finish(*, session: Session, report_id: int, stored: StoredObject, rows_written: int,
           truncated: bool) -> Report:
    """Mark a report succeeded with its object's key, size and row count."""
    # This build started the row, and a running report cannot be deleted (StillBuilding).
    report = session.get_one(Report, report_id, with_for_update=True)
    report.status, report.finished_at = "succeeded", utcnow()
    report.object_key, report.size_bytes = stored.key, stored.size
    report.rows_written, report.truncated = rows_written, truncated
    session.flush()
    return report


def fail(*, session: Session, report_id: int, error: str) -> None:
    """Mark a report failed with a message the tenant can read."""
    report = session.get(Report, report_id, with_for_update=True)
    if report is not None:
        report.status, report.finished_at, report.error = "failed", utcnow(), error[:1000]
        session.flush()
