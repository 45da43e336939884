"""Tables of the `orders` schema and the order state machine."""
from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import UUID

from platform_services.common.outbox import inbox_table, outbox_table
from platform_services.common.tenants import tenants_table

metadata = MetaData(schema="orders")
tenants = tenants_table(metadata)
outbox = outbox_table(metadata)
processed = inbox_table(metadata)

STATUSES = ("pending", "confirmed", "fulfilled", "canceled")
# to-state -> from-states that may reach it; anything else is an illegal transition.
TRANSITIONS = {"confirmed": ("pending",), "fulfilled": ("confirmed",),
               "canceled": ("pending", "confirmed")}

orders = Table(
    "orders", metadata,
    Column("id", UUID(as_uuid=False), primary_key=True,
           server_default=text("gen_random_uuid()")),
    Column("tenant_id", Integer, ForeignKey("orders.tenants.id"), nullable=False),
    Column("status", String(20), nullable=False, server_default="pending"),
    Column("customer_ref", String(64)),
    Column("idempotency_key", String(100)),
    Column("request_hash", String(64)),
    Column("total_quantity", Integer, nullable=False),
    Column("created_at", DateTime(timezone=True), server_default=func.now(), nullable=False),
    Column("updated_at", DateTime(timezone=True), server_default=func.now(), nullable=False),
    # The backstop of idempotency: even without Redis a key makes at most one order.
    UniqueConstraint("tenant_id", "idempotency_key", name="uq_orders_tenant_idempotency_key"),
    CheckConstraint("status IN ('pending', 'confirmed', 'fulfilled', 'canceled')",
                    name="ck_orders_status"),
    CheckConstraint("total_quantity > 0", name="ck_orders_total_quantity"),
    Index("ix_orders_tenant_created", "tenant_id", "created_at"),
    Index("ix_orders_updated_at", "updated_at"),  # the tenants rollups scan by it
)

order_lines = Table(
    "order_lines", metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("order_id", UUID(as_uuid=False), ForeignKey("orders.orders.id", ondelete="CASCADE"),
           nullable=False, index=True),
    Column("sku", String(64), nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("warehouse", String(63)),
    CheckConstraint("quantity > 0", name="ck_order_lines_quantity"),
)
