"""Order logic: creation with stock reservation and outbox events, the state machine,
and the reaction to shipments. Functions take a connection or engine; the caller owns
the transaction unless the name says otherwise."""
from __future__ import annotations

import json
import logging
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select, text, update
from sqlalchemy.engine import Connection, Engine

from platform_services.common.app import ApiError
from platform_services.common.outbox import enqueue, first_delivery
from platform_services.common.validation import OrderRequest
from platform_services.orders.inventory_client import (
    InventoryClient,
    InventoryRejected,
    InventoryUnavailable,
    ReservedLine,
)
from platform_services.orders.models import (
    STATUSES,
    TRANSITIONS,
    order_lines,
    orders,
    outbox,
    processed,
    tenants,
)

log = logging.getLogger(__name__)


def _order_id(value: str) -> str | None:
    try:
        return str(uuid.UUID(value))
    except ValueError:
        return None


def get(conn: Connection, *, tenant_id: int, order_id: str) -> dict[str, Any] | None:
    """The tenant's order with its lines; None for unknown ids and other tenants' orders."""
    oid = _order_id(order_id)
    if oid is None:
        return None
    row = conn.execute(select(orders).where(orders.c.id == oid,
                                            orders.c.tenant_id == tenant_id)).mappings().first()
    if row is None:
        return None
    lines = conn.execute(select(order_lines.c.sku, order_lines.c.quantity,
                                order_lines.c.warehouse)
                         .where(order_lines.c.order_id == oid)
                         .order_by(order_lines.c.sku)).mappings().all()
    return _public(row, [dict(line) for line in lines])


def _public(row, lines: list[dict]) -> dict[str, Any]:
    return {"id": str(row["id"]), "tenant_id": row["tenant_id"], "status": row["status"],
            "customer_ref": row["customer_ref"], "total_quantity": row["total_quantity"],
            "created_at": row["created_at"].isoformat(),
            "updated_at": row["updated_at"].isoformat(), "lines": lines}


def list_recent(conn: Connection, *, tenant_id: int, status: str | None,
                limit: int) -> list[dict[str, Any]]:
    """The tenant's latest orders, newest first, without lines."""
    stmt = select(orders).where(orders.c.tenant_id == tenant_id)
    if status:
        stmt = stmt.where(orders.c.status == status)
    rows = conn.execute(stmt.order_by(orders.c.created_at.desc()).limit(limit)).mappings()
    return [_public(row, []) for row in rows]


def find_by_key(conn: Connection, *, tenant_id: int, key: str) -> dict[str, Any] | None:
    """The order made earlier with this idempotency key, with its request fingerprint."""
    row = conn.execute(select(orders.c.id, orders.c.request_hash).where(
        orders.c.tenant_id == tenant_id, orders.c.idempotency_key == key)).first()
    if row is None:
        return None
    return {"order": get(conn, tenant_id=tenant_id, order_id=str(row.id)),
            "fingerprint": row.request_hash}


def _event(name: str, order: dict[str, Any], tenant: str) -> dict[str, Any]:
    return {"event": name, "order_id": order["id"], "tenant_id": order["tenant_id"],
            "tenant": tenant, "status": order["status"], "lines": order["lines"],
            "occurred_at": datetime.now(UTC).isoformat()}


def create_and_commit(engine: Engine, inventory: InventoryClient, *, tenant_id: int,
                      tenant: str, req: OrderRequest, key: str | None,
                      request_id: str = "") -> tuple[dict[str, Any], bool]:
    """Create a pending order holding reserved stock; (order, created). Commits itself
    (give it an AUTOCOMMIT engine: the order is one statement, one round trip).

    A saga, so that no transaction or pooled connection waits on the inventory service:
    reserve first, then store the order in one statement, and release the reservation
    when storing fails or an order under the same idempotency key is stored already (a
    concurrent twin, or one Redis forgot: the unique index decides; this attempt's stock
    is surplus). A refused reservation under a key that has its order replays it.
    """
    order_id = str(uuid.uuid4())
    try:
        lines = inventory.reserve(tenant, order_id, req.lines, request_id)
    except InventoryRejected as exc:
        earlier = _earlier_for_key(engine, tenant_id=tenant_id, key=key, req=req)
        if earlier is not None:
            return earlier, False
        raise ApiError(exc.status if exc.status in (404, 409, 422) else 409,
                       exc.body.get("error", "rejected"), str(exc),
                       exc.body.get("fields")) from exc
    except InventoryUnavailable as exc:
        raise ApiError(503, "inventory_unavailable", str(exc)) from exc
    try:
        order, created = _store(engine, order_id=order_id, tenant_id=tenant_id,
                                tenant=tenant, req=req, key=key, lines=lines)
    except BaseException:
        _release_quietly(inventory, tenant, order_id, request_id)
        raise
    if not created:
        _release_quietly(inventory, tenant, order_id, request_id)
    return order, created


def _earlier_for_key(engine: Engine, *, tenant_id: int, key: str | None,
                     req: OrderRequest) -> dict[str, Any] | None:
    if not key:
        return None
    with engine.connect() as conn:
        return earlier_order(conn, tenant_id=tenant_id, key=key, req=req)


# The order, its lines and its order.created event in one statement: atomic on its own
# (in autocommit one round trip, no BEGIN/COMMIT), and nothing but the order row when the
# idempotency key is taken (ON CONFLICT waits for a twin's uncommitted row, so the replay
# after it sees that row). The lines are read from the event's payload, which lists them as
# stored: one JSON parameter instead of an array per column, which psycopg adapts at a
# cost on every order.
_INSERT_ORDER = text(f"""
WITH new_order AS (
    INSERT INTO {orders.fullname} (id, tenant_id, customer_ref, idempotency_key,
                                   request_hash, total_quantity)
    VALUES (CAST(:id AS uuid), :tenant_id, :customer_ref, :idempotency_key, :request_hash,
            :total_quantity)
    ON CONFLICT DO NOTHING
    RETURNING id, tenant_id, status, customer_ref, total_quantity, created_at, updated_at
), event AS (
    SELECT CAST(:payload AS jsonb) AS payload
), new_lines AS (
    INSERT INTO {order_lines.fullname} (order_id, sku, quantity, warehouse)
    SELECT new_order.id, line.sku, line.quantity, line.warehouse
    FROM new_order, event, jsonb_to_recordset(event.payload -> 'lines')
        AS line(sku text, quantity integer, warehouse text)
), new_event AS (
    INSERT INTO {outbox.fullname} (exchange, routing_key, payload)
    SELECT 'orders.events', 'order.created', event.payload FROM new_order, event
)
SELECT * FROM new_order""").columns(  # typed, so the result's columns are read once
    orders.c.id, orders.c.tenant_id, orders.c.status, orders.c.customer_ref,
    orders.c.total_quantity, orders.c.created_at, orders.c.updated_at)


def _store(engine: Engine, *, order_id: str, tenant_id: int, tenant: str, req: OrderRequest,
           key: str | None, lines: list[ReservedLine]) -> tuple[dict[str, Any], bool]:
    """Insert the order, its lines and its event; the twin's order when the key is taken."""
    stored = sorted(({"sku": r.sku, "quantity": r.quantity, "warehouse": r.warehouse}
                     for r in lines), key=lambda line: (line["sku"], line["warehouse"]))
    event = _event("order.created", {"id": order_id, "tenant_id": tenant_id,
                                     "status": STATUSES[0], "lines": stored}, tenant)
    with engine.begin() as conn:
        row = conn.execute(_INSERT_ORDER, {
            "id": order_id, "tenant_id": tenant_id, "customer_ref": req.customer_ref,
            "idempotency_key": key, "request_hash": req.fingerprint,
            "total_quantity": req.total_quantity,
            "payload": json.dumps(event)}).mappings().first()
        if row is None:
            return _replay(conn, tenant_id=tenant_id, key=key, req=req), False
    return _public(row, stored), True


def earlier_order(conn: Connection, *, tenant_id: int, key: str,
                  req: OrderRequest) -> dict[str, Any] | None:
    """The order already made under `key` (422 when it was a different request)."""
    earlier = find_by_key(conn, tenant_id=tenant_id, key=key)
    if earlier is None:
        return None
    if earlier["fingerprint"] != req.fingerprint:
        raise ApiError(422, "idempotency_key_reused",
                       "this Idempotency-Key was used for a different order")
    return earlier["order"]


def _replay(conn: Connection, *, tenant_id: int, key: str | None,
            req: OrderRequest) -> dict[str, Any]:
    earlier = earlier_order(conn, tenant_id=tenant_id, key=key, req=req) if key else None
    if earlier is None:
        raise ApiError(409, "conflict", "the order could not be stored; retry")
    return earlier


def _release_quietly(inventory: InventoryClient, tenant: str, order_id: str,
                     request_id: str) -> None:
    try:
        inventory.release(tenant, order_id, request_id)
    except (InventoryUnavailable, InventoryRejected):
        log.error("could not release the reservation of uncommitted order %s", order_id)


def transition(conn: Connection, *, tenant_id: int, tenant: str, order_id: str,
               to: str) -> dict[str, Any]:
    """Move an order to `to` if the state machine allows it, with its outbox event."""
    if to not in STATUSES or to == "pending":
        raise ApiError(422, "invalid", f"unknown target state {to!r}")
    oid = _order_id(order_id)
    current = get(conn, tenant_id=tenant_id, order_id=order_id) if oid else None
    if current is None or oid is None:  # (no order without a valid id)
        raise ApiError(404, "not_found", "no such order for this tenant")
    moved = conn.execute(update(orders).where(
        orders.c.id == oid, orders.c.tenant_id == tenant_id,
        orders.c.status.in_(TRANSITIONS[to])).values(status=to, updated_at=func.now()))
    if moved.rowcount != 1:
        raise ApiError(409, "illegal_transition",
                       f"an order that is {current['status']} cannot become {to}")
    order = get(conn, tenant_id=tenant_id, order_id=oid)
    assert order is not None  # it was just updated, in this transaction
    enqueue(conn, outbox, exchange="orders.events", routing_key=f"order.{to}",
            payload=_event(f"order.{to}", order, tenant))
    return order


def on_shipment(engine: Engine, message_id: str, payload: dict[str, Any]) -> None:
    """A shipment left the warehouse: the order becomes fulfilled (once per message)."""
    with engine.begin() as conn:
        if not first_delivery(conn, processed, message_id):
            return
        tenant = conn.scalar(select(tenants.c.slug).where(tenants.c.id == payload["tenant_id"]))
        if tenant is None:
            raise ValueError(f"shipment for unknown tenant {payload['tenant_id']}")
        try:
            transition(conn, tenant_id=payload["tenant_id"], tenant=tenant,
                       order_id=payload["order_id"], to="fulfilled")
        except ApiError as exc:
            # A canceled or already fulfilled order stays as it is; the shipment is noted.
            log.warning("shipment %s not applied to order %s: %s", message_id,
                        payload["order_id"], exc.message)
