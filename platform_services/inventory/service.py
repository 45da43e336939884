"""Stock logic. Reservations lock the SKU's stock rows (FOR UPDATE, in SKU order so two
orders never deadlock) and the CHECK constraint backs it up, so concurrent orders never
oversell whatever the cache says. Every stock change stamps updated_at with
clock_timestamp() under the row locks: the version the stock cache orders writes by."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import DateTime, Integer, String, and_, column, func, select, text, update
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


# The whole reservation in one statement, so in autocommit it is one round trip and atomic.
# The statement lives in PostgreSQL as inventory.reserve_stock (migration
# svc_inventory_0002, where each of its steps is explained): PL/pgSQL keeps its plan for the
# session, whereas sent from here it was planned on every call (prepared statements are
# off for PgBouncer), and planning took longer than running it. It locks the requested
# SKUs' rows in (sku, warehouse) order, reserves every line or none, answers a repeated
# reference with what it holds, and returns one row per 'earlier' reservation, 'made'
# reservation, 'pick' (the best warehouse per SKU) and 'level' (the SKUs' new stock rows).
RESERVE = text("""
SELECT kind, sku, warehouse, quantity, status, available, on_hand, reserved, updated_at
FROM inventory.reserve_stock(:tenant_id, :reference, CAST(:skus AS text[]),
                             CAST(:quantities AS int[]))
""").columns(  # typed, so the result's columns are read once, not on every reservation
    column("kind", String), column("sku", String), column("warehouse", String),
    column("quantity", Integer), column("status", String), column("available", Integer),
    column("on_hand", Integer), column("reserved", Integer),
    column("updated_at", DateTime(timezone=True)))


@dataclass
class SkuLevels:
    """One SKU's stock rows and their version (microseconds of the latest change)."""
    rows: list[dict[str, Any]]
    version: int


@dataclass
class Reservation:
    """What a reference holds and, when this call reserved it, the SKUs' new levels."""
    held: list[dict[str, Any]]
    levels: dict[str, SkuLevels] = field(default_factory=dict)


def reserve(conn: Connection, *, tenant_id: int, reference: str,
            lines: list[dict[str, Any]]) -> Reservation:
    """Reserve every line from one warehouse each, or nothing; repeat calls return the same.

    One statement: on an autocommit connection it is its own short transaction."""
    ordered = sorted(lines, key=lambda item: item["sku"])
    rows = conn.execute(RESERVE, {
        "tenant_id": tenant_id, "reference": reference,
        "skus": [line["sku"] for line in ordered],
        "quantities": [line["quantity"] for line in ordered]}).mappings().all()
    by_kind: dict[str, list] = {"earlier": [], "made": [], "pick": [], "level": []}
    for row in rows:
        by_kind[row["kind"]].append(row)
    if by_kind["earlier"]:
        return Reservation(_holdings(by_kind["earlier"]))
    picked = {row["sku"]: row for row in by_kind["pick"]}
    for i, line in enumerate(ordered):
        best = picked.get(line["sku"])
        if best is None:
            raise ApiError(422, "unknown_sku", f"unknown SKU {line['sku']!r} for this tenant",
                           {f"lines[{i}].sku": "unknown SKU"})
        if best["available"] < line["quantity"]:
            raise ApiError(409, "insufficient_stock",
                           f"not enough {line['sku']}: {best['available']} available in one "
                           f"warehouse, {line['quantity']} requested")
    if len(by_kind["made"]) < len(ordered):
        # A concurrent call with the same reference won the insert: answer with its rows.
        return Reservation(_held(conn, tenant_id, reference))
    return Reservation(_holdings(by_kind["made"]), _levels_by_sku(by_kind["level"]))


def _holdings(rows) -> list[dict[str, Any]]:
    return sorted(({k: r[k] for k in ("sku", "quantity", "warehouse", "status")} for r in rows),
                  key=lambda r: r["sku"])


def _levels_by_sku(rows) -> dict[str, SkuLevels]:
    out: dict[str, SkuLevels] = {}
    for r in sorted(rows, key=lambda r: (r["sku"], r["warehouse"])):
        version = int(r["updated_at"].timestamp() * 1_000_000)
        level = out.setdefault(r["sku"], SkuLevels([], 0))
        level.rows.append({"sku": r["sku"], "warehouse": r["warehouse"],
                           "on_hand": r["on_hand"], "reserved": r["reserved"],
                           "available": r["on_hand"] - r["reserved"]})
        level.version = max(level.version, version)
    return out


def sku_levels(conn: Connection, *, tenant_id: int, skus: list[str]) -> dict[str, SkuLevels]:
    """The stock rows of several SKUs with their versions, in one query."""
    rows = conn.execute(select(stock.c.sku, stock.c.warehouse, stock.c.on_hand,
                               stock.c.reserved, stock.c.updated_at)
                        .where(stock.c.tenant_id == tenant_id, stock.c.sku.in_(skus))
                        ).mappings().all()
    return _levels_by_sku(rows)


def settle(conn: Connection, *, tenant_id: int, reference: str, outcome: str) -> list[str]:
    """Release (order canceled) or consume (shipped) a reference's open reservations;
    returns the SKUs touched. Already settled reservations are left alone."""
    held = conn.execute(select(reservations).where(
        reservations.c.tenant_id == tenant_id, reservations.c.reference == reference,
        reservations.c.status == "reserved").order_by(reservations.c.sku)
        .with_for_update()).mappings().all()
    for r in held:
        _locked_rows(conn, tenant_id, r["sku"])
        change = {"reserved": stock.c.reserved - r["quantity"],
                  "updated_at": func.clock_timestamp()}
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
            constraint="pk_stock", set_={"on_hand": item["on_hand"],
                                                    "updated_at": func.clock_timestamp()},
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
