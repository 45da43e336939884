"""The platform services' tables the tenants area reads, defined here (never imported).

The services own these schemas (migrations/services/); only the columns the rollups and
reports read are declared. Every tenant-scoped row carries `tenant_id` = the portal's
tenant id. A database without the services' migrations simply has none of these tables:
`present()` says which exist so callers degrade instead of failing.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import current_app
from sqlalchemy import (
    UUID,
    BigInteger,
    Column,
    Connection,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    create_engine,
    text,
)
from sqlalchemy.orm import Session

# Types and lengths as in migrations/services/versions/*_{orders,fulfillment,inventory}_0001:
# ids are uuid there (as_uuid=False: they travel as str), so inserts (the demo seed) bind
# uuid parameters instead of varchar ones, which PostgreSQL would refuse.
metadata = MetaData()
orders = Table("orders", metadata,
               Column("id", UUID(as_uuid=False)), Column("tenant_id", Integer),
               Column("status", String(20)), Column("customer_ref", String(64)),
               Column("total_quantity", Integer),
               Column("created_at", DateTime(timezone=True)),
               Column("updated_at", DateTime(timezone=True)), schema="orders")
order_lines = Table("order_lines", metadata,
                    Column("order_id", UUID(as_uuid=False)), Column("sku", String(64)),
                    Column("quantity", Integer), Column("warehouse", String(63)),
                    schema="orders")
shipments = Table("shipments", metadata,
                  Column("tenant_id", Integer), Column("tenant", String(63)),
                  Column("order_id", UUID(as_uuid=False)), Column("warehouse", String(63)),
                  Column("carrier", String(20)), Column("tracking_number", String(40)),
                  Column("status", String(20)),
                  Column("confirmed_at", DateTime(timezone=True)),
                  Column("created_at", DateTime(timezone=True)),
                  Column("updated_at", DateTime(timezone=True)), schema="fulfillment")
stock = Table("stock", metadata,
              Column("tenant_id", Integer), Column("sku", String(64)),
              Column("warehouse", String(63)), Column("on_hand", Integer),
              Column("reserved", Integer), Column("updated_at", DateTime(timezone=True)),
              schema="inventory")
api_requests = Table("api_requests", metadata,
                     Column("service", String(40)), Column("tenant_id", Integer),
                     Column("hour", DateTime(timezone=True)), Column("requests", BigInteger),
                     Column("client_errors", BigInteger), Column("server_errors", BigInteger),
                     Column("updated_at", DateTime(timezone=True)), schema="telemetry")
ORDERS, SHIPMENTS, STOCK = "orders.orders", "fulfillment.shipments", "inventory.stock"
API_REQUESTS = "telemetry.api_requests"


def present(conn: Connection) -> set[str]:
    """Which of the services' tables exist in the database behind `conn`."""
    names = (ORDERS, "orders.order_lines", SHIPMENTS, STOCK, API_REQUESTS)
    row = conn.execute(text("SELECT " + ", ".join(
        f"to_regclass('{n}') IS NOT NULL" for n in names))).one()
    return {name for name, exists in zip(names, row) if exists}


def _reporting_engine():
    engines = current_app.extensions.setdefault("tenants_reporting", {})
    url = current_app.config["REPORTING_DATABASE_URL"]
    if url not in engines:
        engines[url] = create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5)
    return engines[url]


@contextmanager
def reading(session: Session) -> Iterator[Connection]:
    """A connection for heavy reads: the reporting replica when configured, else `session`'s.

    Without a replica the session's own connection is used, so reads see the same
    transaction (and tests' rolled-back data) as everything else in the request.
    """
    if not current_app.config.get("REPORTING_DATABASE_URL"):
        yield session.connection()
        return
    with _reporting_engine().connect() as conn:
        yield conn
