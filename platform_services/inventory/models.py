"""Tables of the `inventory` schema."""
from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Identity,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    UniqueConstraint,
    func,
)

from platform_services.common.outbox import inbox_table
from platform_services.common.tenants import tenants_table

metadata = MetaData(schema="inventory")
tenants = tenants_table(metadata)
processed = inbox_table(metadata)

stock = Table(
    "stock", metadata,
    Column("tenant_id", Integer, ForeignKey("inventory.tenants.id"), nullable=False),
    Column("sku", String(64), nullable=False),
    Column("warehouse", String(63), nullable=False),
    Column("on_hand", Integer, nullable=False),
    Column("reserved", Integer, nullable=False, server_default="0"),
    Column("updated_at", DateTime(timezone=True), server_default=func.now(), nullable=False),
    PrimaryKeyConstraint("tenant_id", "sku", "warehouse", name="pk_stock"),
    # The last line of defence against overselling, below the row locks.
    CheckConstraint("reserved >= 0 AND reserved <= on_hand", name="ck_stock_reserved"),
)

reservations = Table(
    "reservations", metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("tenant_id", Integer, ForeignKey("inventory.tenants.id"), nullable=False),
    Column("reference", String(64), nullable=False),
    Column("sku", String(64), nullable=False),
    Column("warehouse", String(63), nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("status", String(20), nullable=False, server_default="reserved"),
    Column("created_at", DateTime(timezone=True), server_default=func.now(), nullable=False),
    Column("updated_at", DateTime(timezone=True), server_default=func.now(), nullable=False),
    UniqueConstraint("tenant_id", "reference", "sku", name="uq_reservations_reference_sku"),
    CheckConstraint("quantity > 0", name="ck_reservations_quantity"),
    CheckConstraint("status IN ('reserved', 'released', 'consumed')",
                    name="ck_reservations_status"),
)
