"""The service catalog: teams, services, their dependencies, clusters."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, String, Text, UniqueConstraint, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import Base, Timestamped, utcnow

SERVICE_KINDS = ("service", "datastore", "infrastructure")


class Team(Timestamped, Base):
    __tablename__ = "teams"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(63), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    chat_channel: Mapped[str | None] = mapped_column(String(80))

    services: Mapped[list["Service"]] = relationship(back_populates="team",
                                                     order_by="Service.name")


class Service(Timestamped, Base):
    __tablename__ = "services"
    __table_args__ = (
        CheckConstraint("tier BETWEEN 1 AND 3", name="tier"),
        CheckConstraint("kind IN ('service', 'datastore', 'infrastructure')", name="kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(63), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(20), default="service")
    tier: Mapped[int] = mapped_column(default=2)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"), index=True)
    language: Mapped[str | None] = mapped_column(String(40))
    repository: Mapped[str | None] = mapped_column(String(200))
    purpose: Mapped[str] = mapped_column(Text, default="")
    slo_summary: Mapped[str] = mapped_column(Text, default="")
    failure_modes: Mapped[list[str]] = mapped_column(JSONB, default=list)
    base_url: Mapped[str | None] = mapped_column(String(200))

    team: Mapped[Team] = relationship(back_populates="services", lazy="joined")
    dependencies: Mapped[list["Dependency"]] = relationship(
        foreign_keys="Dependency.service_id", back_populates="service",
        cascade="all, delete-orphan")


class Dependency(Base):
    __tablename__ = "service_dependencies"
    __table_args__ = (
        UniqueConstraint("service_id", "depends_on_id", name="pair"),
        CheckConstraint("service_id <> depends_on_id", name="not_self"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id", ondelete="CASCADE"))
    depends_on_id: Mapped[int] = mapped_column(ForeignKey("services.id", ondelete="CASCADE"),
                                               index=True)
    purpose: Mapped[str] = mapped_column(String(200), default="")

    service: Mapped[Service] = relationship(foreign_keys=[service_id],
                                            back_populates="dependencies")
    depends_on: Mapped[Service] = relationship(foreign_keys=[depends_on_id], lazy="joined")


class Cluster(Timestamped, Base):
    __tablename__ = "clusters"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(63), unique=True)
    environment: Mapped[str] = mapped_column(String(20))
    region: Mapped[str] = mapped_column(String(30))
    purpose: Mapped[str] = mapped_column(Text, default="")
    node_groups: Mapped[list[dict]] = mapped_column(JSONB, default=list)
    namespaces: Mapped[list[str]] = mapped_column(JSONB, default=list)


class ServiceEvent(Base):
    """One entry on a service's timeline: deploys, job steps, policy changes, incidents."""
    __tablename__ = "service_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id", ondelete="CASCADE"),
                                            index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow,
                                         server_default=func.now(), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    summary: Mapped[str] = mapped_column(Text)
    actor_email: Mapped[str | None] = mapped_column(String(254))
    url: Mapped[str | None] = mapped_column(String(500))
    details: Mapped[dict] = mapped_column(JSONB, default=dict)

    service: Mapped[Service] = relationship(lazy="joined")
