"""Tables of the `fulfillment` schema."""
from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    DateTime,
    Identity,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    func,
)
from sqlalchemy.dialects.postgresql import UUID

from platform_services.common.outbox import outbox_table

metadata = MetaData(schema="fulfillment")
outbox = outbox_table(metadata)

SHIPMENT_STATUSES = ("label_pending", "shipped", "delivered", "failed")

shipments = Table(
    "shipments", metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("tenant_id", Integer, nullable=False, index=True),
    Column("tenant", String(63), nullable=False),
    Column("order_id", UUID(as_uuid=False), nullable=False, unique=True),
    Column("warehouse", String(63), nullable=False),
    Column("carrier", String(20), nullable=False),
    Column("tracking_number", String(40)),
    Column("label_key", String(300)),
    Column("status", String(20), nullable=False, server_default="label_pending"),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("error", Text),
    Column("confirmed_at", DateTime(timezone=True)),
    Column("created_at", DateTime(timezone=True), server_default=func.now(), nullable=False),
    Column("updated_at", DateTime(timezone=True), server_default=func.now(), nullable=False),
    CheckConstraint("status IN ('label_pending', 'shipped', 'delivered', 'failed')",
                    name="ck_shipments_status"),
)
