"""SLO specs, their per-minute SLI samples (with hourly and daily rollups), scrape cursors and
error-budget policy overrides."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.catalog.models import Service
from portal.db import Base, Timestamped

SLI_KINDS = ("ratio", "latency")
BUDGETING_METHODS = ("Occurrences", "Timeslices", "RatioTimeslices")


class Slo(Timestamped, Base):
    """One service level objective: good/total event selectors, objective and window."""
    __tablename__ = "slo_specs"
    __table_args__ = (
        UniqueConstraint("service_id", "name", name="uq_slo_specs_service_name"),
        CheckConstraint("objective > 0 AND objective < 100", name="objective"),
        CheckConstraint("window_days BETWEEN 1 AND 90", name="window_days"),
        CheckConstraint("sli_kind IN ('ratio', 'latency')", name="sli_kind"),
        CheckConstraint("budgeting_method IN ('Occurrences', 'Timeslices', 'RatioTimeslices')",
                        name="budgeting_method"),
        CheckConstraint("ratio_numerator IN ('good', 'bad')", name="ratio_numerator"),
        CheckConstraint("(calendar_start IS NULL) = (calendar_time_zone IS NULL)",
                        name="calendar_start_and_zone"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id", ondelete="CASCADE"),
                                            index=True)
    name: Mapped[str] = mapped_column(String(63))
    sli_kind: Mapped[str] = mapped_column(String(10), default="ratio")
    objective: Mapped[Decimal] = mapped_column(Numeric(7, 4))
    window_days: Mapped[int] = mapped_column(Integer, default=30)
    owner: Mapped[str] = mapped_column(String(120), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    good_query: Mapped[str] = mapped_column(Text)
    total_query: Mapped[str] = mapped_column(Text)
    latency_threshold_ms: Mapped[int | None] = mapped_column(Integer)
    # What an OpenSLO document says beyond the form's fields, so an import -> export round
    # trip gives the same document back. display_name is free text, name the DNS label.
    display_name: Mapped[str] = mapped_column(String(255), default="", server_default="")
    # 'bad' when the document counted bad events (bad/total); good_query is then the exact
    # complement the portal measures, and the export gives the bad selector back.
    ratio_numerator: Mapped[str] = mapped_column(String(4), default="good",
                                                 server_default="good")
    budgeting_method: Mapped[str] = mapped_column(String(16), default="Occurrences",
                                                  server_default="Occurrences")
    time_slice_target: Mapped[Decimal | None] = mapped_column(Numeric(9, 8))
    time_slice_window: Mapped[str | None] = mapped_column(String(16))   # e.g. 5m
    # The window as written (4w, 1M); None means f"{window_days}d" rolling. A calendar
    # window also has its start (local wall time, no zone) and IANA time zone.
    window_duration: Mapped[str | None] = mapped_column(String(16))
    calendar_start: Mapped[datetime | None] = mapped_column(DateTime(timezone=False))
    calendar_time_zone: Mapped[str | None] = mapped_column(String(64))
    alert_policies: Mapped[list] = mapped_column(JSONB, default=list, server_default="[]")
    # Labels, foreign annotations and the names of the inline indicator and objective.
    openslo_metadata: Mapped[dict] = mapped_column(JSONB, default=dict, server_default="{}")

    service: Mapped[Service] = relationship(lazy="joined")

    @property
    def is_calendar(self) -> bool:
        """True when the budget period is a calendar-aligned window, not a rolling one."""
        return self.calendar_start is not None


class Sample(Base):
    """Good and total events of one SLO during one minute (the minute's start)."""
    __tablename__ = "slo_samples"

    slo_id: Mapped[int] = mapped_column(ForeignKey("slo_specs.id", ondelete="CASCADE"),
                                        primary_key=True)
    minute: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    good: Mapped[int] = mapped_column(BigInteger)
    total: Mapped[int] = mapped_column(BigInteger)


class HourlySample(Base):
    """Sum of an SLO's samples over one hour, kept in step with `slo_samples` so a 30-day
    window reads 720 rows instead of 43,200."""
    __tablename__ = "slo_sample_hours"

    slo_id: Mapped[int] = mapped_column(ForeignKey("slo_specs.id", ondelete="CASCADE"),
                                        primary_key=True)
    hour: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    good: Mapped[int] = mapped_column(BigInteger)
    total: Mapped[int] = mapped_column(BigInteger)


class DailySample(Base):
    """Sum of an SLO's samples over one UTC day, kept in step like the hourly rollup."""
    __tablename__ = "slo_sample_days"

    slo_id: Mapped[int] = mapped_column(ForeignKey("slo_specs.id", ondelete="CASCADE"),
                                        primary_key=True)
    day: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    good: Mapped[int] = mapped_column(BigInteger)
    total: Mapped[int] = mapped_column(BigInteger)


class ScrapeCursor(Base):
    """Last raw counter values seen per series by the portal's own scrape of /metrics."""
    __tablename__ = "slo_scrape_cursors"

    slo_id: Mapped[int] = mapped_column(ForeignKey("slo_specs.id", ondelete="CASCADE"),
                                        primary_key=True)
    scraped_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    good_series: Mapped[dict] = mapped_column(JSONB, default=dict)
    total_series: Mapped[dict] = mapped_column(JSONB, default=dict)


class PolicyState(Base):
    """The last error-budget policy state seen per service, to put changes on its timeline."""
    __tablename__ = "slo_policy_states"
    __table_args__ = (
        CheckConstraint("state IN ('healthy', 'at_risk', 'exhausted')", name="state"),
    )

    service_id: Mapped[int] = mapped_column(ForeignKey("services.id", ondelete="CASCADE"),
                                            primary_key=True)
    state: Mapped[str] = mapped_column(String(10))
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class PolicyOverride(Timestamped, Base):
    """A manager's time-limited permission to deploy despite an exhausted budget."""
    __tablename__ = "slo_policy_overrides"
    __table_args__ = (
        CheckConstraint("expires_at > starts_at", name="expiry_after_start"),
        CheckConstraint("length(justification) >= 20", name="justification"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id", ondelete="CASCADE"),
                                            index=True)
    justification: Mapped[str] = mapped_column(Text)
    created_by_email: Mapped[str] = mapped_column(String(254))
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_by_email: Mapped[str | None] = mapped_column(String(254))

    service: Mapped[Service] = relationship(lazy="joined")


class Exclusion(Timestamped, Base):
    """A maintenance window of an SLO whose events count neither as good nor as total: once
    (start plus duration) or recurring by an RFC 5545 RRULE, in the local time of `time_zone`."""
    __tablename__ = "slo_exclusions"
    __table_args__ = (
        CheckConstraint("duration_minutes BETWEEN 1 AND 129600", name="duration_minutes"),
        CheckConstraint("length(reason) BETWEEN 3 AND 500", name="reason"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slo_id: Mapped[int] = mapped_column(ForeignKey("slo_specs.id", ondelete="CASCADE"),
                                        index=True)
    # Wall-clock time in time_zone, so a weekly 02:00 window stays at 02:00 across DST.
    starts_local: Mapped[datetime] = mapped_column(DateTime(timezone=False))
    time_zone: Mapped[str] = mapped_column(String(64))
    duration_minutes: Mapped[int] = mapped_column(Integer)
    rrule: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text)
    created_by_email: Mapped[str] = mapped_column(String(254))
