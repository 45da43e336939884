"""Catalog lookups and the idempotent upserts used by seeding."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from portal import events
from portal.catalog.models import Cluster, Dependency, Service, ServiceEvent, Team


def list_services(*, session: Session, team: str | None = None, kind: str | None = None,
                  tier: int | None = None) -> list[Service]:
    """Services ordered by tier then name, optionally filtered."""
    stmt = select(Service).order_by(Service.tier, Service.name)
    if team:
        stmt = stmt.join(Service.team).where(Team.slug == team)
    if kind:
        stmt = stmt.where(Service.kind == kind)
    if tier:
        stmt = stmt.where(Service.tier == tier)
    return list(session.scalars(stmt))


def get_service(*, session: Session, slug: str) -> Service | None:
    """A service with its dependencies loaded."""
    return session.scalar(select(Service).where(Service.slug == slug)
                          .options(selectinload(Service.dependencies)))


def dependents_of(*, session: Session, service: Service) -> list[Service]:
    """Services that depend directly on `service` (its downstream callers)."""
    stmt = (select(Service).join(Dependency, Dependency.service_id == Service.id)
            .where(Dependency.depends_on_id == service.id).order_by(Service.name))
    return list(session.scalars(stmt))


def list_teams(*, session: Session) -> list[Team]:
    """All teams by name."""
    return list(session.scalars(select(Team).order_by(Team.name)))


def list_clusters(*, session: Session) -> list[Cluster]:
    """All clusters, production first."""
    return list(session.scalars(select(Cluster).order_by(Cluster.environment.desc(),
                                                          Cluster.name)))


def upsert_team(*, session: Session, slug: str, name: str, chat_channel: str | None) -> Team:
    """Create or update a team by slug."""
    team = session.scalar(select(Team).where(Team.slug == slug)) or Team(slug=slug)
    team.name, team.chat_channel = name, chat_channel
    session.add(team)
    session.flush()
    return team


def upsert_service(*, session: Session, slug: str, team: Team, **fields) -> Service:
    """Create or update a service by slug."""
    service = session.scalar(select(Service).where(Service.slug == slug)) or Service(slug=slug)
    service.team = team
    for name, value in fields.items():
        setattr(service, name, value)
    session.add(service)
    session.flush()
    return service


def set_dependencies(*, session: Session, service: Service,
                     depends_on: dict[str, str]) -> None:
    """Make `service` depend on exactly the services named in `depends_on` (slug -> purpose)."""
    targets = {s.slug: s for s in session.scalars(
        select(Service).where(Service.slug.in_(depends_on)))}
    missing = set(depends_on) - set(targets)
    if missing:
        raise ValueError(f"unknown dependencies of {service.slug}: {sorted(missing)}")
    current = {d.depends_on.slug: d for d in service.dependencies}
    for slug, dep in current.items():
        if slug not in depends_on:
            service.dependencies.remove(dep)
    for slug, purpose in depends_on.items():
        if slug in current:
            current[slug].purpose = purpose
        else:
            service.dependencies.append(Dependency(depends_on=targets[slug], purpose=purpose))
    session.flush()


def upsert_cluster(*, session: Session, name: str, **fields) -> Cluster:
    """Create or update a cluster by name."""
    cluster = session.scalar(select(Cluster).where(Cluster.name == name)) or Cluster(name=name)
    for field, value in fields.items():
        setattr(cluster, field, value)
    session.add(cluster)
    session.flush()
    return cluster


def record_event(*, session: Session, service: Service, kind: str, summary: str,
                 actor_email: str | None = None, url: str | None = None,
                 details: dict | None = None) -> ServiceEvent:
    """Add an entry to a service's timeline and tell interested domains about it."""
    event = ServiceEvent(service=service, kind=kind, summary=summary, actor_email=actor_email,
                         url=url, details=details or {})
    session.add(event)
    session.flush()
    events.service_event.send(session=session, event=event)
    return event


def timeline(*, session: Session, service: Service, limit: int = 50) -> list[ServiceEvent]:
    """The newest entries of a service's timeline."""
    return list(session.scalars(select(ServiceEvent).where(ServiceEvent.service_id == service.id)
                                .order_by(ServiceEvent.at.desc(), ServiceEvent.id.desc())
                                .limit(limit)))
