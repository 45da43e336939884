"""Tables of chat: each team's target and every message the portal posts or updates."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Index, String, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.catalog.models import Team
from portal.db import Base, utcnow

PLATFORMS = ("slack", "mattermost", "teams", "discord")
PURPOSES = ("page", "update", "incident", "test")
STATES = ("pending", "sent", "failed")


class ChatTarget(Base):
    """Where a team's pages go: a platform and a channel (or, for Teams and Discord, an
    optional webhook URL of its own instead of the portal-wide one)."""
    __tablename__ = "oncall_chat_targets"
    __table_args__ = (CheckConstraint(
        "platform IN ('slack', 'mattermost', 'teams', 'discord')", name="platform"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"),
                                         unique=True)
    platform: Mapped[str] = mapped_column(String(20))
    target: Mapped[str] = mapped_column(String(500), default="")
    incident_channels: Mapped[bool] = mapped_column(default=False)  # Sev1/Sev2 get one
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_by: Mapped[str | None] = mapped_column(String(254))

    team: Mapped[Team] = relationship(lazy="joined")


class ChatMessage(Base):
    """One post (or update of a post) to one chat, retried a bounded number of times.

    `remote_id` is the platform's handle of the posted message (Slack `ts`, Mattermost post
    id, Discord message id) so later updates edit it instead of posting again.
    """
    __tablename__ = "oncall_chat_messages"
    __table_args__ = (Index("ix_oncall_chat_messages_due", "status", "next_attempt_at"),
                      CheckConstraint("status IN ('pending', 'sent', 'failed')", name="status"))

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id", ondelete="SET NULL"))
    platform: Mapped[str] = mapped_column(String(20))
    target: Mapped[str] = mapped_column(String(500), default="")
    purpose: Mapped[str] = mapped_column(String(12))
    page_id: Mapped[int | None] = mapped_column(
        ForeignKey("oncall_pages.id", ondelete="CASCADE"), index=True)
    incident_id: Mapped[int | None] = mapped_column(index=True)
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("oncall_chat_messages.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(12), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    remote_id: Mapped[str | None] = mapped_column(String(200))
    remote_channel: Mapped[str | None] = mapped_column(String(200))
    link: Mapped[str | None] = mapped_column(String(500))  # where a person opens it
    payload: Mapped[dict] = mapped_column(JSONB, default=dict)

    parent: Mapped[ChatMessage | None] = relationship(remote_side=[id], lazy="joined")
