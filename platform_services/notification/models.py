"""Tables of the `notification` schema: templates, tenant contacts and the notification log."""
from __future__ import annotations

from sqlalchemy import (
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
    func,
    text,
)
from sqlalchemy.dialects.postgresql import UUID

from platform_services.common.tenants import tenants_table

metadata = MetaData(schema="notification")
tenants = tenants_table(metadata)
CHANNELS = ("email", "webhook", "sms")
STATUSES = ("sending", "sent", "failed", "rate_limited")

templates = Table(
    "templates", metadata,
    Column("tenant_id", Integer, ForeignKey("notification.tenants.id"), nullable=False),
    Column("name", String(64), nullable=False),
    Column("subject", String(300), nullable=False),
    Column("body", Text, nullable=False),
    Column("updated_at", DateTime(timezone=True), server_default=func.now(), nullable=False),
    PrimaryKeyConstraint("tenant_id", "name"),
)

contacts = Table(
    "contacts", metadata,
    Column("tenant_id", Integer, ForeignKey("notification.tenants.id"), primary_key=True),
    Column("email", String(320)),
    Column("webhook_url", String(2048)),
)

notifications = Table(
    "notifications", metadata,
    Column("id", UUID(as_uuid=False), primary_key=True, server_default=text("gen_random_uuid()")),
    Column("tenant_id", Integer, ForeignKey("notification.tenants.id"), nullable=False),
    Column("channel", String(10), nullable=False),
    Column("template", String(64), nullable=False),
    Column("recipient", String(2048), nullable=False),
    Column("dedupe_key", String(200)),
    Column("status", String(20), nullable=False),
    Column("relay", String(300)),
    Column("error", Text),
    Column("created_at", DateTime(timezone=True), server_default=func.now(), nullable=False),
    Column("sent_at", DateTime(timezone=True)),
    Index("ix_notifications_tenant_created", "tenant_id", "created_at"),
    Index("ix_notifications_dedupe", "tenant_id", "dedupe_key",
          postgresql_where="dedupe_key IS NOT NULL"),
)
