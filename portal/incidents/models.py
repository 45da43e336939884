"""Incidents: the incident itself, its timeline, customer updates, postmortems and action
items. Every table is prefixed `incidents_`. Alerts are the on-call domain's rows
(`portal.oncall.models.ReceivedAlert`); an incident reaches its own through `alerts`."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, foreign, mapped_column, relationship, synonym

from portal.catalog.models import Service
from portal.db import Base, TenantScoped, Timestamped, utcnow
from portal.oncall.models import ReceivedAlert
from portal.tenants.models import Tenant

SEVERITIES = ("sev1", "sev2", "sev3", "sev4")
# Escalation paths and the SEV-1..SEV-4 levels.
SEVERITY_DEFINITIONS = {
    "sev1": "Service down or severe degradation, data loss risk, customer-facing: 5 min ack, "
            "page all on-call engineers.",
    "sev2": "Degraded performance or partial outage for a subset of customers: 15 min ack.",
    "sev3": "Non-critical issue, a workaround exists: 1 h ack, next business day after hours.",
    "sev4": "Cosmetic or informational: reviewed in the next business day's triage.",
}
STATUSES = ("triggered", "acknowledged", "mitigated", "resolved")
# Incident command structure.
ROLES = {
    "commander": "Incident commander",
    "tech_lead": "Technical lead",
    "comms_lead": "Communications lead",
    "scribe": "Scribe",
}
ENTRY_KINDS = ("note", "status", "severity", "role", "alert", "page", "silence",
               "service", "customer_update", "postmortem")
ACTION_STATUSES = ("open", "in_progress", "done")


def _in(column: str, values) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Incident(Timestamped, Base):
    __tablename__ = "incidents_incidents"
    __table_args__ = (
        CheckConstraint(_in("severity", SEVERITIES), name="severity"),
        CheckConstraint(_in("status", STATUSES), name="status"),
        Index("ix_incidents_incidents_status_opened", "status", "opened_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    severity: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(16), default="triggered")
    summary: Mapped[str] = mapped_column(Text, default="")
    customer_facing: Mapped[bool] = mapped_column(Boolean, default=False)
    source: Mapped[str] = mapped_column(String(16), default="manual")
    declared_by: Mapped[str | None] = mapped_column(String(254))
    roles: Mapped[dict] = mapped_column(JSONB, default=dict)
    opened_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    acknowledged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    mitigated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    services: Mapped[list[Service]] = relationship(
        secondary="incidents_services", order_by=Service.name, lazy="selectin")
    tenant_links: Mapped[list[IncidentTenant]] = relationship(
        back_populates="incident", cascade="all, delete-orphan", lazy="selectin")
    # The alerts linked to it, stored once by the on-call domain (`oncall_alerts`); the
    # link is that table's `incident_id`, a plain id like the pages' (no foreign key from
    # the on-call domain's tables into this one), so the join is spelled out here.
    alerts: Mapped[list[ReceivedAlert]] = relationship(
        primaryjoin=lambda: Incident.id == foreign(ReceivedAlert.incident_id),
        back_populates="incident",
        order_by=lambda: (ReceivedAlert.starts_at, ReceivedAlert.fingerprint))
    runbooks: Mapped[list[Runbook]] = relationship(
        back_populates="incident", cascade="all, delete-orphan", order_by="Runbook.id")
    postmortem: Mapped[Postmortem | None] = relationship(
        back_populates="incident", cascade="all, delete-orphan", uselist=False)

    @property
    def is_open(self) -> bool:
        return self.status != "resolved"

    @property
    def tenants(self) -> list[Tenant]:
        return [link.tenant for link in self.tenant_links]


class IncidentService(Base):
    __tablename__ = "incidents_services"

    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents_incidents.id", ondelete="CASCADE"), primary_key=True)
    service_id: Mapped[int] = mapped_column(
        ForeignKey("services.id", ondelete="CASCADE"), primary_key=True, index=True)


class IncidentTenant(TenantScoped, Base):
    """An affected tenant; tenant viewers' sessions only ever see their own links."""
    __tablename__ = "incidents_tenants"

    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents_incidents.id", ondelete="CASCADE"), primary_key=True)
    tenant_id: Mapped[int] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True, index=True)

    incident: Mapped[Incident] = relationship(back_populates="tenant_links")
    tenant: Mapped[Tenant] = relationship(lazy="joined")
    tenant_key = synonym("tenant_id")


class TimelineEntry(Base):
    """One event of an incident; `id` grows in commit order per incident (see timeline.py)."""
    __tablename__ = "incidents_timeline"
    __table_args__ = (
        CheckConstraint(_in("kind", ENTRY_KINDS), name="kind"),
        Index("ix_incidents_timeline_incident_id_id", "incident_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents_incidents.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow,
                                         server_default=func.now())
    kind: Mapped[str] = mapped_column(String(20))
    summary: Mapped[str] = mapped_column(Text)
    body_md: Mapped[str | None] = mapped_column(Text)
    body_html: Mapped[str | None] = mapped_column(Text)
    actor_email: Mapped[str | None] = mapped_column(String(254))
    pinned: Mapped[bool] = mapped_column(Boolean, default=False)
    details: Mapped[dict] = mapped_column(JSONB, default=dict)


class Runbook(Base):
    __tablename__ = "incidents_runbooks"
    __table_args__ = (UniqueConstraint("incident_id", "url", name="incident_url"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents_incidents.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(200))
    url: Mapped[str] = mapped_column(String(500))

    incident: Mapped[Incident] = relationship(back_populates="runbooks")


class CustomerUpdate(Timestamped, Base):
    """A status update written for the affected tenants (banner and status page)."""
    __tablename__ = "incidents_customer_updates"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents_incidents.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    message: Mapped[str] = mapped_column(Text)
    author_email: Mapped[str | None] = mapped_column(String(254))


class Postmortem(Base):
    __tablename__ = "incidents_postmortems"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents_incidents.id", ondelete="CASCADE"), unique=True)
    required: Mapped[bool] = mapped_column(Boolean, default=False)
    due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    summary: Mapped[str] = mapped_column(Text, default="")
    impact: Mapped[str] = mapped_column(Text, default="")
    timeline: Mapped[str] = mapped_column(Text, default="")
    root_cause: Mapped[str] = mapped_column(Text, default="")
    contributing_factors: Mapped[str] = mapped_column(Text, default="")
    went_well: Mapped[str] = mapped_column(Text, default="")
    went_badly: Mapped[str] = mapped_column(Text, default="")
    lessons: Mapped[str] = mapped_column(Text, default="")
    updated_by: Mapped[str | None] = mapped_column(String(254))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow,
                                                 onupdate=utcnow)

    incident: Mapped[Incident] = relationship(back_populates="postmortem")


class ActionItem(Timestamped, Base):
    __tablename__ = "incidents_action_items"
    __table_args__ = (CheckConstraint(_in("status", ACTION_STATUSES), name="status"),
                      Index("ix_incidents_action_items_status_due", "status", "due_date"))

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents_incidents.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    owner_email: Mapped[str] = mapped_column(String(254))
    due_date: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="open")
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    incident: Mapped[Incident] = relationship(lazy="joined")
