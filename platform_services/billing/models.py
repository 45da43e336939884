"""Tables of the `billing` schema, the plans and the meter prices."""
from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID

from platform_services.common.tenants import tenants_table

metadata = MetaData(schema="billing")
tenants = tenants_table(metadata)

# Monthly base fee in cents per plan; usage on top at PRICES (hundredths of a cent a unit).
PLANS = {"starter": 4_900, "growth": 19_900, "enterprise": 99_900}
PRICES = {"api_calls": 1, "orders": 200, "reports": 500, "notifications": 10}
INVOICE_STATUSES = ("queued", "issued", "paid", "payment_failed", "failed")

subscriptions = Table(
    "subscriptions", metadata,
    Column("tenant_id", Integer, ForeignKey("billing.tenants.id"), primary_key=True),
    Column("plan", String(20), nullable=False),
    Column("status", String(20), nullable=False, server_default="active"),
    Column("stripe_customer_id", String(64)),
    Column("stripe_subscription_id", String(64)),
    Column("created_at", DateTime(timezone=True), server_default=func.now(), nullable=False),
    Column("updated_at", DateTime(timezone=True), server_default=func.now(), nullable=False),
)

usage = Table(
    "usage", metadata,
    Column("tenant_id", Integer, ForeignKey("billing.tenants.id"), nullable=False),
    Column("period", String(7), nullable=False),  # YYYY-MM
    Column("meter", String(32), nullable=False),
    Column("quantity", BigInteger, nullable=False),
    PrimaryKeyConstraint("tenant_id", "period", "meter"),
    CheckConstraint("quantity >= 0", name="ck_usage_quantity"),
)

# One row per applied flush batch: a batch found again after a crash is not added twice.
usage_flushes = Table(
    "usage_flushes", metadata,
    Column("flush_id", String(64), primary_key=True),
    Column("flushed_at", DateTime(timezone=True), server_default=func.now(), nullable=False),
)

invoices = Table(
    "invoices", metadata,
    Column("id", UUID(as_uuid=False), primary_key=True, server_default=text("gen_random_uuid()")),
    Column("tenant_id", Integer, ForeignKey("billing.tenants.id"), nullable=False),
    Column("period", String(7), nullable=False),
    Column("amount_cents", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("lines", JSONB, nullable=False),
    Column("status", String(20), nullable=False),
    Column("stripe_invoice_id", String(64), unique=True),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("last_error", Text),
    Column("next_attempt_at", DateTime(timezone=True)),
    Column("created_at", DateTime(timezone=True), server_default=func.now(), nullable=False),
    Column("updated_at", DateTime(timezone=True), server_default=func.now(), nullable=False),
    UniqueConstraint("tenant_id", "period", name="uq_invoices_tenant_period"),
    CheckConstraint("status IN ('queued', 'issued', 'paid', 'payment_failed', 'failed')",
                    name="ck_invoices_status"),
    Index("ix_invoices_queued", "next_attempt_at", postgresql_where="status = 'queued'"),
)

stripe_events = Table(
    "stripe_events", metadata,
    Column("event_id", String(100), primary_key=True),
    Column("type", String(100), nullable=False),
    Column("outcome", String(40), nullable=False),
    Column("received_at", DateTime(timezone=True), server_default=func.now(), nullable=False),
)
