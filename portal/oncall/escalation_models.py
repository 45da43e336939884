"""Named escalation chains, the routes that send matching alerts to them, the people of a
"notify users" step, and the outbox of outgoing-webhook steps.

The steps themselves live in `portal.oncall.models.EscalationStep`: a step belongs either to
a severity policy or to a chain, and the paging engine runs both the same way.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import Base, Timestamped, utcnow
from portal.oncall.models import EscalationStep

# The people of a `notify_users` step; a person who leaves takes their row with them.
step_users = Table(
    "oncall_escalation_step_users", Base.metadata,
    Column("step_id", ForeignKey("oncall_escalation_steps.id", ondelete="CASCADE"),
           primary_key=True),
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True,
           index=True),
)


class EscalationChain(Timestamped, Base):
    """A named list of escalation steps that routes (and importers) point pages at."""
    __tablename__ = "oncall_escalation_chains"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    description: Mapped[str] = mapped_column(String(200), default="")
    # The id the chain has in the tool it was imported from; a re-import finds it by this.
    external_id: Mapped[str | None] = mapped_column(String(200), unique=True)

    # One-way: a step does not link back to its chain, so portal.oncall.models (where steps
    # live, shared with severity policies) need not import this module.
    steps: Mapped[list[EscalationStep]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by=EscalationStep.position)


class EscalationRoute(Timestamped, Base):
    """Alerts whose labels satisfy `matcher` page with `chain` instead of their severity's
    policy; routes are tried in `position` order and the first match wins."""
    __tablename__ = "oncall_escalation_routes"

    id: Mapped[int] = mapped_column(primary_key=True)
    position: Mapped[int] = mapped_column(Integer, unique=True)
    name: Mapped[str] = mapped_column(String(120), default="")
    matcher: Mapped[str] = mapped_column(String(1000))  # e.g. {service="order", team=~"pay.*"}
    chain_id: Mapped[int] = mapped_column(
        ForeignKey("oncall_escalation_chains.id", ondelete="CASCADE"), index=True)
    integration: Mapped[str] = mapped_column(String(120), default="")  # where it came from
    external_id: Mapped[str | None] = mapped_column(String(200), unique=True)

    chain: Mapped[EscalationChain] = relationship(lazy="joined")


class StepWebhook(Base):
    """One outgoing-webhook call of a page's step, delivered and retried by the paging tick
    (queued in the paging transaction, so a crash between commit and send loses nothing)."""
    __tablename__ = "oncall_step_webhooks"
    __table_args__ = (Index("ix_oncall_step_webhooks_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    page_id: Mapped[int] = mapped_column(ForeignKey("oncall_pages.id", ondelete="CASCADE"),
                                         index=True)
    position: Mapped[int] = mapped_column(Integer)
    url: Mapped[str] = mapped_column(String(500))
    payload: Mapped[dict] = mapped_column(JSONB, default=dict)
    status: Mapped[str] = mapped_column(String(12), default="pending")  # pending|sent|failed
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    response_status: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
