"""Layered rotations of a schedule (imported from another on-call tool) and the mapping of
a source's ids to the portal's rows, which makes a second import update instead of copy.

A schedule that has rotations answers its primary layer from them (see
`portal.oncall.layered`); one without keeps its weekly hand-off rotation.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    DateTime,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.auth.models import User
from portal.db import Base, Timestamped

FREQUENCIES = ("hourly", "daily", "weekly", "monthly")


class LayeredRotation(Timestamped, Base):
    """Recurring shifts of a schedule; the highest `level` with someone on call wins."""
    __tablename__ = "oncall_rotations"
    __table_args__ = (
        CheckConstraint("frequency IN ('hourly', 'daily', 'weekly', 'monthly')",
                        name="frequency"),
        CheckConstraint("interval >= 1", name="interval"),
        CheckConstraint("duration_seconds IS NULL OR duration_seconds > 0", name="duration"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    schedule_id: Mapped[int] = mapped_column(
        ForeignKey("oncall_schedules.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    level: Mapped[int] = mapped_column(Integer, default=0)
    time_zone: Mapped[str] = mapped_column(String(64))
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    frequency: Mapped[str] = mapped_column(String(10))
    interval: Mapped[int] = mapped_column(Integer, default=1)
    duration_seconds: Mapped[int | None] = mapped_column(Integer)
    until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # [{"weekdays": [0, 1], "start": "09:00", "end": "17:00"}], in the rotation's time zone
    windows: Mapped[list] = mapped_column(JSONB, default=list)

    members: Mapped[list[RotationMember]] = relationship(
        back_populates="rotation", cascade="all, delete-orphan", lazy="selectin",
        order_by=lambda: [RotationMember.position, RotationMember.id])


class RotationMember(Base):
    """One person of the participant at `position`: people sharing a position are on call
    together."""
    __tablename__ = "oncall_rotation_members"
    __table_args__ = (UniqueConstraint("rotation_id", "position", "user_id",
                                       name="uq_oncall_rotation_members_slot"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    rotation_id: Mapped[int] = mapped_column(
        ForeignKey("oncall_rotations.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                         index=True)

    rotation: Mapped[LayeredRotation] = relationship(back_populates="members")
    user: Mapped[User] = relationship(lazy="joined")


class ImportMapping(Timestamped, Base):
    """Which local row an object of another tool became (kind: user, team, schedule,
    rotation, override, ...); a re-import finds it here."""
    __tablename__ = "oncall_import_mappings"
    __table_args__ = (UniqueConstraint("source", "kind", "external_id",
                                       name="uq_oncall_import_mappings_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(40))
    external_id: Mapped[str] = mapped_column(String(200))
    local_id: Mapped[int] = mapped_column(Integer)
