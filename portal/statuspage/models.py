"""Status pages: scheduled maintenance, subscriptions to a tenant's page, the notices sent
to subscribers and the last state each subscriber was told. Tables are prefixed
`statuspage_`."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship, synonym

from portal.db import Base, TenantScoped, Timestamped

CHANNELS = ("email", "webhook")
NOTICE_STATUSES = ("pending", "sent", "failed")


class Maintenance(Timestamped, Base):
    """A planned window during which the listed components are under maintenance."""
    __tablename__ = "statuspage_maintenances"
    __table_args__ = (CheckConstraint("ends_at > starts_at", name="window"),
                      Index("ix_statuspage_maintenances_window", "starts_at", "ends_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    service_slugs: Mapped[list[str]] = mapped_column(JSONB, default=list)
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ends_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by_email: Mapped[str] = mapped_column(String(254))


class Subscription(TenantScoped, Timestamped, Base):
    """An e-mail address or webhook told about one component ('' = every component)."""
    __tablename__ = "statuspage_subscriptions"
    __table_args__ = (
        CheckConstraint("channel IN ('email', 'webhook')", name="channel"),
        UniqueConstraint("tenant_id", "channel", "target", "component",
                         name="uq_statuspage_subscriptions_target"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"),
                                           index=True)
    channel: Mapped[str] = mapped_column(String(8))
    target: Mapped[str] = mapped_column(String(500))
    component: Mapped[str] = mapped_column(String(63), default="")
    confirmed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    unsubscribed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    tenant_key = synonym("tenant_id")

    @property
    def active(self) -> bool:
        return self.confirmed_at is not None and self.unsubscribed_at is None


class Notice(Timestamped, Base):
    """One message to one subscriber about one event; the unique key makes it exactly once."""
    __tablename__ = "statuspage_notices"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'sent', 'failed')", name="status"),
        UniqueConstraint("subscription_id", "event_key", name="uq_statuspage_notices_event"),
        Index("ix_statuspage_notices_pending", "status", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    subscription_id: Mapped[int] = mapped_column(
        ForeignKey("statuspage_subscriptions.id", ondelete="CASCADE"))
    event_key: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(8), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    payload: Mapped[dict] = mapped_column(JSONB, default=dict)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    subscription: Mapped[Subscription] = relationship(lazy="joined")


class ComponentState(Base):
    """The last state of a tenant's component that subscribers were told about."""
    __tablename__ = "statuspage_component_states"

    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"),
                                           primary_key=True)
    service_slug: Mapped[str] = mapped_column(String(63), primary_key=True)
    state: Mapped[str] = mapped_column(String(24))
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
