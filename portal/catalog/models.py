"""The service catalog: teams, services, their dependencies, clusters."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Computed,
    DateTime,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    func,
    true,
)
from sqlalchemy.dialects.postgresql import JSON, JSONB, TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import Base, Timestamped, utcnow

SERVICE_KINDS = ("service", "datastore", "infrastructure")

# Full-text search document of a catalog entry; a generated column so it can never go stale.
SERVICE_SEARCH_DOCUMENT = (
    "setweight(to_tsvector('english', coalesce(name, '') || ' ' || coalesce(slug, '')), 'A') || "
    "setweight(to_tsvector('english', coalesce(purpose, '')), 'B') || "
    "setweight(to_tsvector('english', coalesce(language, '') || ' ' || coalesce(namespace, '') "
    "|| ' ' || coalesce(slo_summary, '')), 'C') || "
    "setweight(jsonb_to_tsvector('english', coalesce(failure_modes, '[]'::jsonb), '[\"string\"]'), 'C')")
RUNBOOK_SEARCH_DOCUMENT = (
    "setweight(to_tsvector('english', coalesce(title, '')), 'A') || "
    "setweight(to_tsvector('english', coalesce(body, '')), 'B')")


class Team(Timestamped, Base):
    __tablename__ = "teams"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(63), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    chat_channel: Mapped[str | None] = mapped_column(String(80))

    services: Mapped[list[Service]] = relationship(back_populates="team",
                                                     order_by="Service.name")


class Service(Timestamped, Base):
    __tablename__ = "services"
    __table_args__ = (
        CheckConstraint("tier BETWEEN 1 AND 3", name="tier"),
        CheckConstraint("kind IN ('service', 'datastore', 'infrastructure')", name="kind"),
        Index("ix_catalog_services_search", "search_vector", postgresql_using="gin"),
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
    namespace: Mapped[str | None] = mapped_column(String(80))
    clusters: Mapped[list[str]] = mapped_column(JSONB, default=list, server_default="[]")
    dashboards: Mapped[list[dict]] = mapped_column(JSONB, default=list, server_default="[]")
    helm_chart: Mapped[str | None] = mapped_column(String(63))
    oncall_schedule: Mapped[str | None] = mapped_column(String(120))
    rpo: Mapped[str | None] = mapped_column(String(200))
    rto: Mapped[str | None] = mapped_column(String(200))
    backup: Mapped[str | None] = mapped_column(Text)
    redundancy: Mapped[str | None] = mapped_column(Text)
    search_vector = mapped_column(TSVECTOR, Computed(SERVICE_SEARCH_DOCUMENT, persisted=True),
                                  deferred=True)

    team: Mapped[Team] = relationship(back_populates="services", lazy="joined")
    dependencies: Mapped[list[Dependency]] = relationship(
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
    # False when the dependent only degrades if this dependency fails (see blast radius).
    critical: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())

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


class CatalogRunbook(Base):
    """A Markdown runbook, optionally owned by one catalog entry, answering named alerts."""
    __tablename__ = "catalog_runbooks"
    __table_args__ = (Index("ix_catalog_runbooks_search", "search_vector",
                            postgresql_using="gin"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    title: Mapped[str] = mapped_column(String(160))
    body: Mapped[str] = mapped_column(Text, default="")
    service_id: Mapped[int | None] = mapped_column(
        ForeignKey("services.id", ondelete="SET NULL"), index=True)
    alertnames: Mapped[list[str]] = mapped_column(JSONB, default=list, server_default="[]")
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow,
                                                 server_default=func.now())
    updated_by: Mapped[str | None] = mapped_column(String(254))
    search_vector = mapped_column(TSVECTOR, Computed(RUNBOOK_SEARCH_DOCUMENT, persisted=True),
                                  deferred=True)

    service: Mapped[Service | None] = relationship(lazy="joined")


class ScoreSnapshot(Base):
    """A service's production-readiness score at one moment, for the trend."""
    __tablename__ = "catalog_score_snapshots"

    id: Mapped[int] = mapped_column(primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id", ondelete="CASCADE"),
                                            index=True)
    taken_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow,
                                               server_default=func.now())
    score: Mapped[int]
    passed: Mapped[int]
    applicable: Mapped[int]
    failing: Mapped[list[str]] = mapped_column(JSONB, default=list)


class CatalogEntity(Base):
    """A Backstage entity as imported, kept whole so an export gives it back unchanged.

    Components and Resources that became catalog entries point at their Service, Groups
    that became teams at their Team; the other kinds live only here.
    """
    __tablename__ = "catalog_entities"
    __table_args__ = (UniqueConstraint("kind", "namespace", "name",
                                       name="uq_catalog_entities_ref"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # Lower case, as Backstage compares kinds; the document keeps the spelling.
    kind: Mapped[str] = mapped_column(String(63))
    namespace: Mapped[str] = mapped_column(String(63))
    name: Mapped[str] = mapped_column(String(63))
    # json, not jsonb: the text is kept as written, so keys keep their order on export.
    document: Mapped[dict] = mapped_column(JSON)
    service_id: Mapped[int | None] = mapped_column(
        ForeignKey("services.id", ondelete="SET NULL"), unique=True)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id", ondelete="SET NULL"),
                                                unique=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow,
                                                 onupdate=utcnow, server_default=func.now())

    service: Mapped[Service | None] = relationship()
    team: Mapped[Team | None] = relationship()
    relations: Mapped[list[EntityRelation]] = relationship(
        back_populates="source", cascade="all, delete-orphan", order_by="EntityRelation.id")

    @property
    def ref(self) -> str:
        """kind:namespace/name, the form relations point at."""
        return f"{self.kind}:{self.namespace}/{self.name}"


class EntityRelation(Base):
    """One reference of an entity's spec; the target may not exist yet and is matched by ref
    whenever it is read, so it resolves as soon as the target is imported."""
    __tablename__ = "catalog_entity_relations"

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(
        ForeignKey("catalog_entities.id", ondelete="CASCADE"), index=True)
    type: Mapped[str] = mapped_column(String(40))
    target_ref: Mapped[str] = mapped_column(String(200), index=True)

    source: Mapped[CatalogEntity] = relationship(back_populates="relations")

