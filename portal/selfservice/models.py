"""Self-service: environments developers own, jobs that change things, and job logs."""
from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.auth.models import User
from portal.catalog.models import Service, Team
from portal.db import Base, Timestamped, utcnow

JOB_STATUSES = ("queued", "awaiting_approval", "running", "succeeded", "failed", "cancelled")
FINISHED = ("succeeded", "failed", "cancelled")
FLAGGED_ROLLOUTS = ("degraded", "missing", "unsettled", "unknown")
PHASES = ("plan", "apply")
# Who lets a planned job go on: its requester (confirm), a second person with the manager
# role (approval, prod), or nobody (staging deploys sync automatically).
GATES = ("confirm", "approval", "auto")
ENV_STATUSES = ("requested", "provisioning", "active", "destroying", "destroyed", "failed")


class Environment(Timestamped, Base):
    """A Terraform-managed environment a developer requested and owns."""
    __tablename__ = "selfservice_environments"
    __table_args__ = (
        CheckConstraint(
            "status IN ('requested','provisioning','active','destroying','destroyed','failed')",
            name="status"),
        # A live name is unique; a destroyed environment frees its name.
        Index("uq_selfservice_environments_live_name", "name", unique=True,
              postgresql_where="status <> 'destroyed'"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(40))
    template: Mapped[str] = mapped_column(String(40))
    tier: Mapped[str] = mapped_column(String(10))  # dev / staging / prod
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    tags: Mapped[dict] = mapped_column(JSONB, default=dict)
    variables: Mapped[dict] = mapped_column(JSONB, default=dict)
    status: Mapped[str] = mapped_column(String(20), default="requested")
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    outputs: Mapped[dict] = mapped_column(JSONB, default=dict)
    destroyed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    owner: Mapped[User] = relationship(lazy="joined")


class Job(Timestamped, Base):
    """One self-service request: planned, gated, applied; the Celery task id is `id`."""
    __tablename__ = "selfservice_jobs"
    __table_args__ = (
        CheckConstraint("status IN ('queued','awaiting_approval','running','succeeded',"
                        "'failed','cancelled')", name="status"),
        CheckConstraint("phase IN ('plan','apply')", name="phase"),
        CheckConstraint("gate IN ('confirm','approval','auto')", name="gate"),
        CheckConstraint("approved_by_id IS NULL OR approved_by_id <> requested_by_id",
                        name="approver_is_not_requester"),
        Index("ix_selfservice_jobs_status_heartbeat", "status", "heartbeat_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True,
                                          default=uuid.uuid4)
    template: Mapped[str] = mapped_column(String(40), index=True)
    action: Mapped[str] = mapped_column(String(20))  # create/destroy/patch/deploy/rollback
    tier: Mapped[str] = mapped_column(String(10))
    target: Mapped[str] = mapped_column(String(120), index=True)  # the lock key
    params: Mapped[dict] = mapped_column(JSONB, default=dict)
    gate: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(20), default="queued")
    phase: Mapped[str] = mapped_column(String(10), default="plan")
    status_reason: Mapped[str | None] = mapped_column(Text)
    environment_id: Mapped[int | None] = mapped_column(
        ForeignKey("selfservice_environments.id"), index=True)
    service_id: Mapped[int | None] = mapped_column(ForeignKey("services.id"), index=True)
    retry_of_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("selfservice_jobs.id"))
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    approved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    cancelled_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    planned_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    worker: Mapped[str | None] = mapped_column(String(200))
    timeout_seconds: Mapped[int] = mapped_column(Integer, default=1800)
    plan: Mapped[dict] = mapped_column(JSONB, default=dict)
    result: Mapped[dict] = mapped_column(JSONB, default=dict)

    environment: Mapped[Environment | None] = relationship(lazy="joined")
    service: Mapped[Service | None] = relationship(lazy="joined")
    requested_by: Mapped[User] = relationship(foreign_keys=[requested_by_id], lazy="joined")
    approved_by: Mapped[User | None] = relationship(foreign_keys=[approved_by_id],
                                                    lazy="joined")
    cancelled_by: Mapped[User | None] = relationship(foreign_keys=[cancelled_by_id])

    @property
    def finished(self) -> bool:
        return self.status in FINISHED

    @property
    def label(self) -> str:
        return str(self.id)[:8]

    @property
    def rollout_outcome(self) -> str | None:
        """What ArgoCD reported after the deploy's sync (healthy, degraded, unsettled, ...)."""
        return ((self.result or {}).get("rollout") or {}).get("outcome")

    @property
    def flagged(self) -> bool:
        """A succeeded deploy whose application did not end Healthy (or Suspended)."""
        return self.status == "succeeded" and self.rollout_outcome in FLAGGED_ROLLOUTS


# When a job changed things: when it finished, else when it started, else when it was asked.
CHANGED_AT = func.coalesce(Job.finished_at, Job.started_at, Job.created_at)
Index("ix_selfservice_jobs_service_changed_at", Job.service_id, CHANGED_AT)


class JobLog(Base):
    """One log line of a job; `seq` is the offset the job page tails from."""
    __tablename__ = "selfservice_job_logs"
    __table_args__ = (UniqueConstraint("job_id", "seq", name="uq_selfservice_job_logs_job_seq"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    job_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("selfservice_jobs.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow,
                                         server_default=func.now())
    line: Mapped[str] = mapped_column(Text)


DECISIONS = ("approve", "reject")
NOTIFICATION_CHANNELS = ("email", "webhook")
NOTIFICATION_STATUSES = ("pending", "sent", "failed")
DRIFT_SOURCES = ("terraform", "ansible")
# new: just found; accepted: a person decided the live state is fine as it is;
# remediating: a request to bring it back to the code is under way; reverted: a person
# says it was put back by hand; resolved: the latest scan no longer finds it.
DRIFT_STATES = ("new", "accepted", "remediating", "reverted", "resolved")


class JobDecision(Base):
    """An approver's decision on a job and the comment that explains it."""
    __tablename__ = "selfservice_job_decisions"
    __table_args__ = (CheckConstraint("decision IN ('approve','reject')", name="decision"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("selfservice_jobs.id", ondelete="CASCADE"), index=True)
    decision: Mapped[str] = mapped_column(String(10))
    comment: Mapped[str] = mapped_column(Text)
    decided_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow,
                                                 server_default=func.now())

    decided_by: Mapped[User] = relationship(lazy="joined")


class JobNotification(Timestamped, Base):
    """One message about a job to one recipient on one channel, delivered after commit."""
    __tablename__ = "selfservice_notifications"
    __table_args__ = (
        CheckConstraint("channel IN ('email','webhook')", name="channel"),
        CheckConstraint("status IN ('pending','sent','failed')", name="status"),
        # The same message is never queued twice for the same person and channel.
        UniqueConstraint("job_id", "event", "channel", "recipient",
                         name="uq_selfservice_notifications_once"),
        Index("ix_selfservice_notifications_pending", "status",
              postgresql_where="status = 'pending'"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    job_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("selfservice_jobs.id", ondelete="CASCADE"))
    event: Mapped[str] = mapped_column(String(20))  # approval_needed / approved / rejected
    channel: Mapped[str] = mapped_column(String(10))
    recipient: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class DriftItem(Base):
    """One difference between the code and what runs: a resource or a host's task."""
    __tablename__ = "selfservice_drift_items"
    __table_args__ = (
        CheckConstraint("source IN ('terraform','ansible')", name="source"),
        CheckConstraint("state IN ('new','accepted','remediating','reverted','resolved')",
                        name="state"),
        UniqueConstraint("source", "scope", "subject", name="uq_selfservice_drift_items_subject"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(10))
    scope: Mapped[str] = mapped_column(String(120))  # environment name or site group
    subject: Mapped[str] = mapped_column(String(300))  # resource address or host: task
    summary: Mapped[str] = mapped_column(String(500))
    details: Mapped[dict] = mapped_column(JSONB, default=dict)
    fingerprint: Mapped[str] = mapped_column(String(64))  # of `details`: a new diff reopens
    state: Mapped[str] = mapped_column(String(12), default="new", index=True)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"))
    environment_id: Mapped[int | None] = mapped_column(ForeignKey("selfservice_environments.id"))
    first_detected_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_detected_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    state_changed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    state_changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    remediation_job_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("selfservice_jobs.id"))

    team: Mapped[Team | None] = relationship(lazy="joined")
    environment: Mapped[Environment | None] = relationship(lazy="joined")
    state_changed_by: Mapped[User | None] = relationship(lazy="joined")
    remediation_job: Mapped[Job | None] = relationship()


class DriftScan(Base):
    """The latest drift scan of one environment or site, and how it ended."""
    __tablename__ = "selfservice_drift_scans"
    __table_args__ = (
        CheckConstraint("outcome IN ('clean','drift','failed','skipped')", name="outcome"),
        UniqueConstraint("source", "scope", name="uq_selfservice_drift_scans_scope"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(10))
    scope: Mapped[str] = mapped_column(String(120))
    scanned_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    outcome: Mapped[str] = mapped_column(String(10))
    items: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)


GAMEDAY_EXPERIMENTS = ("pod-kill", "network-delay")
# requested: waits for a manager; scheduled: approved, its manifest not committed yet
# (the window has not started); running: the manifest is in the GitOps repo; ended: the
# removal is committed; rejected: a manager turned it down.
GAMEDAY_STATUSES = ("requested", "scheduled", "running", "ended", "rejected")
GAMEDAY_OUTCOMES = ("held", "degraded")


class GameDay(Timestamped, Base):
    """A chaos experiment in staging: requested, approved, committed, then removed."""
    __tablename__ = "selfservice_gamedays"
    __table_args__ = (
        CheckConstraint("status IN ('requested','scheduled','running','ended','rejected')",
                        name="status"),
        CheckConstraint("experiment IN ('pod-kill','network-delay')", name="experiment"),
        CheckConstraint("outcome IS NULL OR outcome IN ('held','degraded')", name="outcome"),
        CheckConstraint("approved_by_id IS NULL OR approved_by_id <> requested_by_id",
                        name="approver_is_not_requester"),
        UniqueConstraint("name", name="uq_selfservice_gamedays_name"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(63))  # the Chaos Mesh object's name
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"), index=True)
    target_id: Mapped[int | None] = mapped_column(ForeignKey("services.id"))
    experiment: Mapped[str] = mapped_column(String(20))
    mode: Mapped[str] = mapped_column(String(10))
    latency_ms: Mapped[int | None] = mapped_column(Integer)
    jitter_ms: Mapped[int | None] = mapped_column(Integer)
    duration_minutes: Mapped[int] = mapped_column(Integer)
    window_start: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    window_end: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    status: Mapped[str] = mapped_column(String(10), default="requested", index=True)
    manifest_path: Mapped[str] = mapped_column(String(200))
    manifest: Mapped[str] = mapped_column(Text)
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    approved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decision_comment: Mapped[str | None] = mapped_column(Text)
    commit_sha: Mapped[str | None] = mapped_column(String(40))
    committed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    removal_sha: Mapped[str | None] = mapped_column(String(40))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    ended_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    outcome: Mapped[str | None] = mapped_column(String(10))
    outcome_notes: Mapped[str | None] = mapped_column(Text)
    outcome_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    service: Mapped[Service] = relationship(foreign_keys=[service_id], lazy="joined")
    target: Mapped[Service | None] = relationship(foreign_keys=[target_id], lazy="joined")
    requested_by: Mapped[User] = relationship(foreign_keys=[requested_by_id], lazy="joined")
    approved_by: Mapped[User | None] = relationship(foreign_keys=[approved_by_id],
                                                    lazy="joined")
    ended_by: Mapped[User | None] = relationship(foreign_keys=[ended_by_id], lazy="joined")
