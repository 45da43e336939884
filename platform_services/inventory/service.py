"""Stock logic. Reservations lock the SKU's stock rows (SELECT ... FOR UPDATE, in SKU
order so two orders never deadlock) and the CHECK constraint backs it up, so concurrent
orders never oversell whatever the cache says."""
from __future__ import annotations

from typing import Any

from sqlalchemy import and_, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.engine import Connection

from platform_services.common.app import ApiError
from platform_services.inventory.models import reservations, stock


def _locked_rows(conn: Connection, tenant_id: int, sku: str):
    return conn.execute(select(stock.c.warehouse, stock.c.on_hand, stock.c.reserved)
                        .where(stock.c.tenant_id == tenant_id, stock.c.sku == sku)
                        .order_by(stock.c.warehouse).with_for_update()).all()


def _held(conn: Connection, tenant_id: int, reference: str) -> list[dict[str, Any]]:
    rows = conn.execute(select(reservations.c.sku, reservations.c.quantity,
                               reservations.c.warehouse, reservations.c.status)
                        .where(reservations.c.tenant_id == tenant_id,
                               reservations.c.reference == reference)
                        .order_by(reservations.c.sku)).mappings().all()
    return [dict(r) for r in rows]


def reserve(conn: Connection, *, tenant_id: int, reference: str,
            lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Reserve every line from one warehouse each, or nothing; repeat calls return the same."""
    earlier = _held(conn, tenant_id, reference)
    if earlier:
        return earlier
    for i, line in enumerate(sorted(lines, key=lambda item: item["sku"])):
        sku, qty = line["sku"], line["quantity"]
        rows = _locked_rows(conn, tenant_id, sku)
        if not rows:
            raise ApiError(422, "unknown_sku", f"unknown SKU {sku!r} for this tenant",
                           {f"lines[{i}].sku": "unknown SKU"})
        best = max(rows, key=lambda r: r.on_hand - r.reserved)
        if best.on_hand - best.reserved < qty:
            raise ApiError(409, "insufficient_stock",
                           f"not enough {sku}: {best.on_hand - best.reserved} available in one "
                           f"warehouse, {qty} requested")
        conn.execute(update(stock).where(stock.c.tenant_id == tenant_id, stock.c.sku == sku,
                                         stock.c.warehouse == best.warehouse)
                     .values(reserved=stock.c.reserved + qty, updated_at=func.now()))
        conn.execute(reservations.insert().values(tenant_id=tenant_id, reference=reference,
                                                  sku=sku, warehouse=best.warehouse,
                                                  quantity=qty))
    return _held(conn, tenant_id, reference)


def settle(conn: Connection, *, tenant_id: int, reference: str, outcome: str) -> list[str]:
    """Release (order canceled) or consume (shipped) a reference's open reservations;
    returns the SKUs touched. Already settled reservations are left alone."""
    held = conn.execute(select(reservations).where(
        reservations.c.tenant_id == tenant_id, reservations.c.reference == reference,
        reservations.c.status == "reserved").order_by(reservations.c.sku)
        .with_for_update()).mappings().all()
    for r in held:
        _locked_rows(conn, tenant_id, r["sku"])
        change = {"reserved": stock.c.reserved - r["quantity"], "updated_at": func.now()}
        if outcome == "consumed":
            change["on_hand"] = stock.c.on_hand - r["quantity"]
        conn.execute(update(stock).where(stock.c.tenant_id == tenant_id,
                                         stock.c.sku == r["sku"],
                                         stock.c.warehouse == r["warehouse"]).values(**change))
        conn.execute(update(reservations).where(reservations.c.id == r["id"])
                     .values(status=outcome, updated_at=func.now()))
    return sorted({r["sku"] for r in held})


def sync_warehouse(conn: Connection, *, tenant_id: int, warehouse: str,
                   items: list[dict[str, Any]]) -> list[str]:
    """Set on-hand counts reported by a warehouse; refuses counts below what is reserved."""
    for item in sorted(items, key=lambda it: it["sku"]):
        stmt = insert(stock).values(tenant_id=tenant_id, sku=item["sku"], warehouse=warehouse,
                                    on_hand=item["on_hand"], reserved=0)
        stmt = stmt.on_conflict_do_update(
            constraint="pk_stock", set_={"on_hand": item["on_hand"], "updated_at": func.now()},
            where=and_(stock.c.reserved <= item["on_hand"]))
        if conn.execute(stmt.returning(stock.c.sku)).first() is None:
            raise ApiError(409, "below_reserved",
                           f"{item['sku']}: on_hand {item['on_hand']} is below what is reserved "
                           f"in {warehouse}")
    return sorted(item["sku"] for item in items)


def levels(conn: Connection, *, tenant_id: int, sku: str | None = None) -> list[dict[str, Any]]:
    """Stock per SKU and warehouse with the available quantity."""
    stmt = select(stock.c.sku, stock.c.warehouse, stock.c.on_hand, stock.c.reserved) \
        .where(stock.c.tenant_id == tenant_id)
    if sku is not None:
        stmt = stmt.where(stock.c.sku == sku)
    rows = conn.execute(stmt.order_by(stock.c.sku, stock.c.warehouse)).mappings().all()
    return [{**r, "available": r["on_hand"] - r["reserved"]} for r in rows]
