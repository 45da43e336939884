"""On-call: schedules and their layers, overrides, hand-off notes, escalation policies,
pages with their event log and notifications, and the alerts Alertmanager sent us."""
from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    Computed,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    Time,
    UniqueConstraint,
    false,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.auth.models import User
from portal.catalog.models import Team
from portal.db import Base, Timestamped, utcnow

LAYERS = ("primary", "secondary")
SEVERITIES = ("sev1", "sev2", "sev3", "sev4")
PAGE_STATES = ("triggered", "acked", "resolved")
STEP_TARGETS = ("primary", "secondary", "user")
# `page` is the original step (a layer of the page's schedule or one person, at a minute
# offset); the others are the kinds teams bring from Grafana OnCall and Opsgenie.
STEP_KINDS = ("page", "wait", "notify_users", "notify_group", "notify_schedule", "repeat",
              "notify_if_count", "webhook")


class Schedule(Timestamped, Base):
    """A weekly rotation of one team, handed off at a local time in its time zone."""
    __tablename__ = "oncall_schedules"
    __table_args__ = (CheckConstraint("handoff_weekday BETWEEN 0 AND 6", name="weekday"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(63), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id", ondelete="SET NULL"),
                                                unique=True)
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    handoff_weekday: Mapped[int] = mapped_column(default=0)  # Monday, as date.weekday()
    handoff_time: Mapped[time] = mapped_column(Time, default=time(10, 0))
    rotation_start: Mapped[date] = mapped_column(Date)  # local date of the first hand-off
    is_default: Mapped[bool] = mapped_column(default=False)

    team: Mapped[Team | None] = relationship(lazy="joined")
    members: Mapped[list[LayerMember]] = relationship(
        back_populates="schedule", cascade="all, delete-orphan",
        order_by=lambda: [LayerMember.layer, LayerMember.position])

    def participants(self, layer: str) -> list[User]:
        """The layer's participants in rotation order."""
        return [m.user for m in self.members if m.layer == layer]


class LayerMember(Base):
    __tablename__ = "oncall_layer_members"
    __table_args__ = (UniqueConstraint("schedule_id", "layer", "position", name="uq_oncall_layer_members_slot"),
                      CheckConstraint("layer IN ('primary', 'secondary')", name="layer"))

    id: Mapped[int] = mapped_column(primary_key=True)
    schedule_id: Mapped[int] = mapped_column(
        ForeignKey("oncall_schedules.id", ondelete="CASCADE"))
    layer: Mapped[str] = mapped_column(String(20))
    position: Mapped[int] = mapped_column(Integer)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))

    schedule: Mapped[Schedule] = relationship(back_populates="members")
    user: Mapped[User] = relationship(lazy="joined")


class Override(Timestamped, Base):
    """Someone covers a layer of a schedule for a period (a cover or one half of a swap)."""
    __tablename__ = "oncall_overrides"
    __table_args__ = (CheckConstraint("ends_at > starts_at", name="period"),
                      CheckConstraint("layer IN ('primary', 'secondary')", name="layer"))

    id: Mapped[int] = mapped_column(primary_key=True)
    schedule_id: Mapped[int] = mapped_column(
        ForeignKey("oncall_schedules.id", ondelete="CASCADE"), index=True)
    layer: Mapped[str] = mapped_column(String(20))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ends_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    reason: Mapped[str] = mapped_column(String(300), default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id",
                                                                 ondelete="SET NULL"))

    user: Mapped[User] = relationship(foreign_keys=[user_id], lazy="joined")


class HandoffNote(Timestamped, Base):
    __tablename__ = "oncall_handoff_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    schedule_id: Mapped[int] = mapped_column(
        ForeignKey("oncall_schedules.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    body: Mapped[str] = mapped_column(Text)

    author: Mapped[User | None] = relationship(lazy="joined")


class EscalationPolicy(Base):
    """How a severity is paged: an ack target and steps offset from the page's start."""
    __tablename__ = "oncall_escalation_policies"

    id: Mapped[int] = mapped_column(primary_key=True)
    severity: Mapped[str] = mapped_column(String(10), unique=True)
    description: Mapped[str] = mapped_column(String(200), default="")
    ack_minutes: Mapped[int] = mapped_column(default=15)
    next_business_day: Mapped[bool] = mapped_column(default=False)  # Sev4: no night pages

    steps: Mapped[list[EscalationStep]] = relationship(
        back_populates="policy", cascade="all, delete-orphan", lazy="selectin",
        order_by="EscalationStep.position")


class EscalationStep(Base):
    """One step of a severity policy or of a named chain (see STEP_KINDS and
    `portal.oncall.escalation` for what each kind does)."""
    __tablename__ = "oncall_escalation_steps"
    __table_args__ = (UniqueConstraint("policy_id", "position", name="uq_oncall_escalation_steps_slot"),
                      UniqueConstraint("chain_id", "position",
                                       name="uq_oncall_escalation_steps_chain_slot"),
                      CheckConstraint("(policy_id IS NULL) <> (chain_id IS NULL)", name="owner"),
                      CheckConstraint("kind IN ('page', 'wait', 'notify_users', 'notify_group', "
                                      "'notify_schedule', 'repeat', 'notify_if_count', "
                                      "'webhook')", name="kind"),
                      CheckConstraint("kind <> 'page' OR target IN ('primary', 'secondary', "
                                      "'user')", name="target"),
                      CheckConstraint("target <> 'user' OR user_id IS NOT NULL", name="user"),
                      CheckConstraint("minutes BETWEEN 0 AND 10080", name="minutes"),
                      CheckConstraint("count BETWEEN 0 AND 1000", name="count"),
                      CheckConstraint("kind <> 'webhook' OR webhook_url IS NOT NULL",
                                      name="webhook"))

    id: Mapped[int] = mapped_column(primary_key=True)
    policy_id: Mapped[int | None] = mapped_column(
        ForeignKey("oncall_escalation_policies.id", ondelete="CASCADE"))
    chain_id: Mapped[int | None] = mapped_column(
        ForeignKey("oncall_escalation_chains.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20), default="page", server_default="page")
    after_minutes: Mapped[int] = mapped_column(Integer, default=0)  # offset of a `page` step
    target: Mapped[str | None] = mapped_column(String(20))  # `page`: primary|secondary|user
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    label: Mapped[str] = mapped_column(String(80), default="")
    important: Mapped[bool] = mapped_column(default=False, server_default=false())
    minutes: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # wait, window
    count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # repeats, alerts
    # A deleted team or schedule leaves the step in place, recorded as a gap when it runs.
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id", ondelete="SET NULL"))
    schedule_id: Mapped[int | None] = mapped_column(  # None: the page's own schedule
        ForeignKey("oncall_schedules.id", ondelete="SET NULL"))
    webhook_url: Mapped[str | None] = mapped_column(String(500))

    policy: Mapped[EscalationPolicy | None] = relationship(back_populates="steps")
    user: Mapped[User | None] = relationship(lazy="joined")
    users: Mapped[list[User]] = relationship(secondary="oncall_escalation_step_users",
                                             lazy="selectin", order_by=User.id)
    team: Mapped[Team | None] = relationship(lazy="joined")
    schedule: Mapped[Schedule | None] = relationship(lazy="joined")


class Page(Base):
    """One paging run for an incident: who is paged now, and whether it was acked."""
    __tablename__ = "oncall_pages"
    __table_args__ = (Index("ix_oncall_pages_status_due", "status", "due_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int | None] = mapped_column(index=True)  # the incidents domain's id
    schedule_id: Mapped[int | None] = mapped_column(
        ForeignKey("oncall_schedules.id", ondelete="SET NULL"))
    severity: Mapped[str] = mapped_column(String(10))
    title: Mapped[str] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(12), default="triggered")
    step: Mapped[int] = mapped_column(default=0)  # position of the last step notified; 0 = none
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))  # when step 1 goes out
    acked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    acked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Escalation state (see portal.oncall.paging): the chain a route chose (None: the
    # severity's policy), the pass through it, when the last step ran and this pass began,
    # since when a count condition holds the page, and the labels of the opening alert.
    chain_id: Mapped[int | None] = mapped_column(
        ForeignKey("oncall_escalation_chains.id", ondelete="SET NULL"))
    route_id: Mapped[int | None] = mapped_column(
        ForeignKey("oncall_escalation_routes.id", ondelete="SET NULL"))
    cycle: Mapped[int] = mapped_column(default=0, server_default="0")
    step_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    cycle_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    held_since: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    alert_labels: Mapped[dict] = mapped_column(JSONB, default=dict, server_default="{}")

    schedule: Mapped[Schedule | None] = relationship(lazy="joined")
    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id], lazy="joined")
    acked_by: Mapped[User | None] = relationship(foreign_keys=[acked_by_id], lazy="joined")
    events: Mapped[list[PageEvent]] = relationship(
        cascade="all, delete-orphan", order_by="PageEvent.id", lazy="selectin")


class PageEvent(Base):
    """Every page, escalation, ack and resolution, with its timestamp (MTTA comes from here)."""
    __tablename__ = "oncall_page_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    page_id: Mapped[int] = mapped_column(ForeignKey("oncall_pages.id", ondelete="CASCADE"),
                                         index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    kind: Mapped[str] = mapped_column(String(20))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    summary: Mapped[str] = mapped_column(String(300), default="")

    user: Mapped[User | None] = relationship(lazy="joined")


class Notification(Base):
    """One message to one person over one channel, retried a bounded number of times."""
    __tablename__ = "oncall_notifications"
    __table_args__ = (Index("ix_oncall_notifications_due", "status", "next_attempt_at"),
                      CheckConstraint("channel IN ('webhook', 'email', 'sms', 'voice')",
                                      name="channel"))

    id: Mapped[int] = mapped_column(primary_key=True)
    page_id: Mapped[int] = mapped_column(ForeignKey("oncall_pages.id", ondelete="CASCADE"),
                                         index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    channel: Mapped[str] = mapped_column(String(12))
    status: Mapped[str] = mapped_column(String(12), default="pending")  # pending|sent|failed
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    payload: Mapped[dict] = mapped_column(JSONB, default=dict)
    provider_ref: Mapped[str | None] = mapped_column(String(120), index=True)  # SMS/call id

    user: Mapped[User | None] = relationship(lazy="joined")


class ReceivedAlert(Base):
    """The latest state of each alert Alertmanager sent, one row per fingerprint: the only
    stored copy of an alert. The incidents domain reads it and links it to an incident."""
    __tablename__ = "oncall_alerts"
    __table_args__ = (
        # The board's groups in order, firing alerts only: its statement spells the status
        # as a literal so the planner can use this partial index.
        Index("ix_oncall_alerts_board", "group_service", "group_severity", "alert_name",
              "fingerprint", postgresql_where=text("status = 'firing'")),
        # The incidents page's firing alerts that no incident covers, latest first.
        Index("ix_oncall_alerts_waiting", "status", "last_received_at",
              postgresql_where=text("incident_id IS NULL")),
    )

    fingerprint: Mapped[str] = mapped_column(String(128), primary_key=True)
    status: Mapped[str] = mapped_column(String(10))
    # The status before the latest delivery, written by the same upsert, so dedupe is
    # decided atomically by the database even when two webhooks race.
    previous_status: Mapped[str | None] = mapped_column(String(10))
    labels: Mapped[dict] = mapped_column(JSONB)
    annotations: Mapped[dict] = mapped_column(JSONB)
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ends_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    severity: Mapped[str | None] = mapped_column(String(20))
    service: Mapped[str | None] = mapped_column(String(63))
    received_count: Mapped[int] = mapped_column(default=1)
    last_received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True),
                                                       server_default=func.now())
    # The incident the alert opened or joined: the incidents domain's id, written by it
    # (portal.incidents.alerts). No foreign key into that domain's tables, so the join is
    # spelled out; "Incident" resolves by name once portal.models has loaded every domain.
    # Typed loosely because on-call never imports the incidents domain, not even for type
    # checkers (that would be an import cycle); portal.incidents.alerts reads it as an
    # Incident.
    incident_id: Mapped[int | None] = mapped_column(index=True)
    # The board's grouping, kept by the database as the labels change (the board reads
    # them for thousands of alerts per poll). Cut to 200 characters so an absurdly long
    # label cannot make the index entry too large to store the alert.
    group_service: Mapped[str | None] = mapped_column(Text, Computed(
        "left(coalesce(nullif(labels->>'service', ''), nullif(labels->>'job', ''), "
        "'unknown'), 200)", persisted=True))
    group_severity: Mapped[str | None] = mapped_column(Text, Computed(
        "coalesce(nullif(severity, ''), 'none')", persisted=True))
    alert_name: Mapped[str | None] = mapped_column(Text, Computed(
        "left(coalesce(labels->>'alertname', ''), 200)", persisted=True))
    incident: Mapped[Any] = relationship(
        "Incident",
        primaryjoin="Incident.id == foreign(ReceivedAlert.incident_id)",
        back_populates="alerts", lazy="select")

    @property
    def alertname(self) -> str:
        return str(self.labels.get("alertname", "")) if self.labels else ""


class FeedToken(Base):
    """A user's secret for calendar feeds, which calendar clients fetch without a login."""
    __tablename__ = "oncall_feed_tokens"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                         primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    user: Mapped[User] = relationship(lazy="joined")


class SilenceExpiryNotice(Base):
    """The notice that a silence is about to end, claimed once per silence and end time.

    The unique key is what makes the notice single even when two workers run the tick:
    each claims with INSERT ... ON CONFLICT DO NOTHING, and only the inserter sends.
    Extending a silence changes its end, so the new end earns a new notice.
    """
    __tablename__ = "oncall_silence_expiry_notices"
    __table_args__ = (UniqueConstraint("silence_id", "ends_at",
                                       name="uq_oncall_silence_expiry_notices_silence_end"),
                      Index("ix_oncall_silence_expiry_notices_pending", "status"))

    id: Mapped[int] = mapped_column(primary_key=True)
    silence_id: Mapped[str] = mapped_column(String(64))
    ends_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    recipient: Mapped[str] = mapped_column(String(320))
    status: Mapped[str] = mapped_column(String(12), default="pending")  # pending|sent|failed
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    claimed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    payload: Mapped[dict] = mapped_column(JSONB, default=dict)


# The silence ledger keeps its table in a module of its own; importing it here maps it. The
# `*_models` modules (and chat's `models`) are found and mapped by portal.domains.
from portal.oncall import silence_ledger  # noqa: E402,F401
