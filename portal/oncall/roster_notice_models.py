"""Notices on a schedule: a person who rotates in it lost their account."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, String, Text, func, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base, utcnow


class RosterNotice(Base):
    """Future shifts of a deprovisioned person, shown on the schedule until someone deals
    with them, and mailed once to the people who manage schedules.

    One open notice per schedule and person (a partial unique index), so deprovisioning
    twice, or two workers reacting at once, never doubles it.
    """
    __tablename__ = "oncall_roster_notices"
    __table_args__ = (
        Index("uq_oncall_roster_notices_open", "schedule_id", "person_email", unique=True,
              postgresql_where=text("resolved_at IS NULL")),
        Index("ix_oncall_roster_notices_delivery", "delivery"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    schedule_id: Mapped[int] = mapped_column(
        ForeignKey("oncall_schedules.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    person_email: Mapped[str] = mapped_column(String(254))
    person_name: Mapped[str] = mapped_column(String(120))
    shifts: Mapped[list] = mapped_column(JSONB, default=list)  # [{layer, starts_at, ends_at}]
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow,
                                                 server_default=func.now())
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    resolved_by: Mapped[str | None] = mapped_column(String(254))
    delivery: Mapped[str] = mapped_column(String(12), default="pending")  # pending|sent|failed
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    payload: Mapped[dict] = mapped_column(JSONB, default=dict)  # {to: [...], subject, text}
