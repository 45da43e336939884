"""Fulfillment of confirmed orders: a shipment row, a label from the carrier stored in S3,
then `shipment.shipped` through the outbox. Each step is idempotent by the shipment's
state, so a redelivered order event never makes a second label or event."""
from __future__ import annotations

import logging
from collections import Counter
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.engine import Engine

from platform_services.common.observability import Metrics
from platform_services.common.outbox import enqueue
from platform_services.common.storage import ObjectStore
from platform_services.fulfillment.carrier import Carrier, label_document
from platform_services.fulfillment.models import outbox, shipments

log = logging.getLogger(__name__)


def pick_warehouse(lines: list[dict[str, Any]]) -> str:
    """The warehouse holding most of the order's units (fewest split shipments)."""
    units: Counter[str] = Counter()
    for line in lines:
        units[line.get("warehouse") or "main"] += int(line["quantity"])
    return sorted(units.items(), key=lambda item: (-item[1], item[0]))[0][0]


def label_key(tenant_id: int, order_id: str) -> str:
    """Where a label lives in the meridian-fulfillment bucket."""
    return f"labels/tenant-{tenant_id}/{order_id}.txt"


def fulfill(*, engine: Engine, carrier: Carrier, store: ObjectStore, bucket: str,
            metrics: Metrics, event: dict[str, Any]) -> None:
    """Handle one `order.confirmed` event end to end."""
    order_id, tenant_id, tenant = event["order_id"], int(event["tenant_id"]), event["tenant"]
    warehouse = pick_warehouse(event["lines"])
    with engine.begin() as conn:
        conn.execute(insert(shipments).values(
            tenant_id=tenant_id, tenant=tenant, order_id=order_id, warehouse=warehouse,
            carrier="pending", confirmed_at=event.get("occurred_at"))
            .on_conflict_do_nothing(index_elements=[shipments.c.order_id]))
        status = conn.scalar(select(shipments.c.status).where(shipments.c.order_id == order_id))
    if status != "label_pending":
        return  # a redelivery of an order already shipped
    try:
        label = carrier.label(order_id=order_id, warehouse=warehouse, tenant=tenant)
        key = label_key(tenant_id, order_id)
        store.put(bucket, key, label_document(label=label, order_id=order_id, tenant=tenant,
                                              warehouse=warehouse, lines=event["lines"]),
                  "text/plain")
    except Exception as exc:
        _record_failure(engine, order_id, exc)
        metrics.event("label", "failed")
        raise
    _mark_shipped(engine, metrics, event, label, key, warehouse)


def _record_failure(engine: Engine, order_id: str, exc: Exception) -> None:
    with engine.begin() as conn:
        conn.execute(update(shipments).where(shipments.c.order_id == order_id).values(
            attempts=shipments.c.attempts + 1, error=f"{type(exc).__name__}: {exc}"[:1000],
            updated_at=func.now()))


def _mark_shipped(engine: Engine, metrics: Metrics, event: dict, label, key: str,
                  warehouse: str) -> None:
    with engine.begin() as conn:
        moved = conn.execute(update(shipments).where(
            shipments.c.order_id == event["order_id"], shipments.c.status == "label_pending")
            .values(status="shipped", carrier=label.carrier, error=None,
                    tracking_number=label.tracking_number, label_key=key,
                    attempts=shipments.c.attempts + 1, updated_at=func.now()))
        if moved.rowcount != 1:
            return
        enqueue(conn, outbox, exchange="fulfillment.events", routing_key="shipment.shipped",
                payload={"event": "shipment.shipped", "order_id": event["order_id"],
                         "tenant_id": int(event["tenant_id"]), "tenant": event["tenant"],
                         "warehouse": warehouse, "carrier": label.carrier,
                         "tracking_number": label.tracking_number, "label_key": key,
                         "occurred_at": datetime.now(UTC).isoformat()})
    metrics.event("label", "created")
    confirmed = event.get("occurred_at")
    if confirmed:
        waited = datetime.now(UTC) - datetime.fromisoformat(confirmed)
        metrics.stage_seconds.labels(metrics.service, "fulfillment").observe(
            max(waited.total_seconds(), 0.0))


def get(engine: Engine, *, tenant: str, order_id: str) -> dict[str, Any] | None:
    """The shipment of a tenant's order (tenant by slug or id)."""
    column = shipments.c.tenant_id if tenant.isdigit() else shipments.c.tenant
    value = int(tenant) if tenant.isdigit() else tenant
    with engine.connect() as conn:
        row = conn.execute(select(shipments).where(
            shipments.c.order_id == order_id, column == value)).mappings().first()
    if row is None:
        return None
    return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in row.items()}


def mark_delivered(engine: Engine, *, tenant: str, order_id: str) -> bool:
    """Carrier reports delivery; False if the shipment is not (yet) shipped."""
    column = shipments.c.tenant_id if tenant.isdigit() else shipments.c.tenant
    value = int(tenant) if tenant.isdigit() else tenant
    with engine.begin() as conn:
        moved = conn.execute(update(shipments).where(
            shipments.c.order_id == order_id, column == value, shipments.c.status == "shipped")
            .values(status="delivered", updated_at=func.now()))
    return moved.rowcount == 1
