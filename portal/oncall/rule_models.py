"""Personal notification rules: how each on-call person wants to be reached when paged.

A person has one profile (phone number, time zone, quiet hours) and two ordered lists of
rules, "default" and "important". A rule says: over this channel, after this many minutes,
then again every `repeat_interval_minutes` for `repeat_count` more times.
"""
from __future__ import annotations

from datetime import datetime, time

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, String, Time, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base, utcnow

RULE_KINDS = ("default", "important")
RULE_CHANNELS = ("email", "sms", "voice", "chat")
MAX_DELAY_MINUTES = 24 * 60
MAX_REPEATS = 10
MAX_INTERVAL_MINUTES = 24 * 60


class NotificationProfile(Base):
    """How to reach one person: an E.164 phone number, their time zone and quiet hours.

    Quiet hours are local wall-clock times in `timezone`; start > end crosses midnight, and
    no start/end means no quiet hours.
    """
    __tablename__ = "oncall_notification_profiles"
    __table_args__ = (CheckConstraint("(quiet_start IS NULL) = (quiet_end IS NULL)",
                                      name="quiet_pair"),
                      CheckConstraint("phone IS NULL OR phone ~ '^\\+[1-9][0-9]{6,14}$'",
                                      name="phone_e164"))

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                         primary_key=True)
    phone: Mapped[str | None] = mapped_column(String(16))
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    quiet_start: Mapped[time | None] = mapped_column(Time)
    quiet_end: Mapped[time | None] = mapped_column(Time)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow,
                                                 onupdate=utcnow, server_default=func.now())


class NotificationRule(Base):
    """One row of a person's default or important rules, at `position` (1-based)."""
    __tablename__ = "oncall_notification_rules"
    __table_args__ = (
        UniqueConstraint("user_id", "kind", "position", name="uq_oncall_notification_rules_slot"),
        CheckConstraint("kind IN ('default', 'important')", name="kind"),
        CheckConstraint("channel IN ('email', 'sms', 'voice', 'chat')", name="channel"),
        CheckConstraint(f"delay_minutes BETWEEN 0 AND {MAX_DELAY_MINUTES}", name="delay"),
        CheckConstraint(f"repeat_count BETWEEN 0 AND {MAX_REPEATS}", name="repeats"),
        CheckConstraint(f"repeat_interval_minutes BETWEEN 1 AND {MAX_INTERVAL_MINUTES}",
                        name="interval"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(10))
    position: Mapped[int] = mapped_column()
    channel: Mapped[str] = mapped_column(String(10))
    delay_minutes: Mapped[int] = mapped_column(default=0)
    repeat_count: Mapped[int] = mapped_column(default=0)
    repeat_interval_minutes: Mapped[int] = mapped_column(default=5)
