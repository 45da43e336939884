"""Catalog lookups, the idempotent upserts used by seeding and import, and the catalog's
entry points for other domains (runbook_for, critical_checks_failing, record_event)."""
from __future__ import annotations

import functools
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import networkx as nx
from sqlalchemy import Integer, Select, bindparam, func, select
from sqlalchemy.orm import Session, joinedload

from portal import events
from portal.catalog import alert_catalogue, graph, graph_cache, readiness, reference, runbooks
from portal.catalog.models import CatalogRunbook, Cluster, Dependency, Service, ServiceEvent, Team


def dashboard_links() -> tuple[reference.DashboardLink, ...]:
    """The key Grafana dashboards (title, path, description), in their display order."""
    return reference.DASHBOARDS


def spof_remediations() -> dict[str, str]:
    """Catalog entry slug -> how to remove it as a single point of failure."""
    return dict(reference.SPOF_REMEDIATIONS)


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


class ServiceRow(NamedTuple):
    """What the catalog's list shows of one entry."""
    slug: str
    name: str
    kind: str
    tier: int
    slo_summary: str
    team_name: str


@dataclass(frozen=True)
class ServicePage:
    services: list[ServiceRow]
    total: int
    page: int
    pages: int


def page_of_services(*, session: Session, team: str | None = None, kind: str | None = None,
                     tier: int | None = None, page: int = 1,
                     per_page: int = 100) -> ServicePage:
    """One page of `list_services`' order (a page past the end is the last one): the
    columns the list shows, with the number of matching entries, from one statement."""
    page = max(1, page)
    found = list(session.execute(
        _page_statement(bool(team), bool(kind), bool(tier), per_page),
        {"team": team, "kind": kind, "tier": tier, "page_index": page - 1}))
    count = found[0][-1] if found else 0  # no row on the last page: nothing matches
    pages = max(1, -(-count // per_page))
    return ServicePage([ServiceRow(*row[:-1]) for row in found], count, min(page, pages), pages)


# Building the list's statement and deriving SQLAlchemy's cache key from it cost as much as
# reading the rows; it differs only by which filters are set (their values and the page are
# bound parameters), so one object per shape is kept.
@functools.lru_cache(maxsize=32)
def _page_statement(team: bool, kind: bool, tier: bool, per_page: int) -> Select:
    ids = select(Service.id)
    if team:
        ids = ids.join(Team, Team.id == Service.team_id).where(Team.slug == bindparam("team"))
    if kind:
        ids = ids.where(Service.kind == bindparam("kind"))
    if tier:
        ids = ids.where(Service.tier == bindparam("tier"))
    # The number of matching entries is counted once (a CTE) and read twice: shown, and to
    # turn a page past the end into the last one within the same statement.
    matching = select(func.count().label("n")).select_from(ids.subquery()).cte("matching")
    total = select(matching.c.n).scalar_subquery()
    last = func.greatest((total + per_page - 1) // per_page - 1, 0)
    # The page's ids are picked from narrow rows, then only those entries' shown columns
    # are read: sorting thousands of full rows to keep a hundred costs ten times more, and
    # whole entities cost far more to load than the six columns the list shows.
    chosen = (ids.order_by(Service.tier, Service.name, Service.id).limit(per_page)
              .offset(func.least(bindparam("page_index", type_=Integer), last) * per_page))
    return select(Service.slug, Service.name, Service.kind, Service.tier,
                  Service.slo_summary, func.coalesce(Team.name, ""), total) \
        .outerjoin(Team, Team.id == Service.team_id) \
        .where(Service.id.in_(chosen.scalar_subquery())) \
        .order_by(Service.tier, Service.name, Service.id)


def count_services(*, session: Session, kind: str | None = None) -> int:
    """How many catalog entries there are (of one kind)."""
    stmt = select(func.count()).select_from(Service)
    return session.execute(stmt.where(Service.kind == kind) if kind else stmt).scalar_one()


def get_service(*, session: Session, slug: str) -> Service | None:
    """A service with its dependencies loaded."""
    # Joined, not selectin: the page of one entry costs one statement for all of it.
    return session.scalars(select(Service).where(Service.slug == slug)
                           .options(joinedload(Service.dependencies)
                                    .joinedload(Dependency.depends_on))).unique().first()


def dependents_of(*, session: Session, service: Service) -> list[Service]:
    """Services that depend directly on `service` (its downstream callers)."""
    stmt = (select(Service).join(Dependency, Dependency.service_id == Service.id)
            .where(Dependency.depends_on_id == service.id).order_by(Service.name))
    return list(session.scalars(stmt))


def redundancy_by_slug(*, session: Session) -> dict[str, str | None]:
    """The declared redundancy of every catalog entry."""
    return dict(session.execute(select(Service.slug, Service.redundancy)).tuples().all())


@dataclass(frozen=True)
class CustomerMap:
    """The services customers reach, and how a failure anywhere in the catalog reaches them."""
    components: list[Service]
    impact: dict[str, dict[str, str]]  # failed slug -> {component slug: 'down' | 'degraded'}


def customer_map(*, session: Session) -> CustomerMap:
    """Tenant-facing services (the user entry points and the services behind them) and, for
    every catalog entry, which of them go down or degrade when it fails.

    A failed tenant-facing service is down itself while the services calling it only
    degrade (their other features work); a failed datastore or piece of infrastructure,
    which has no line of its own on a status page, shows through what the graph says
    fails with it."""
    deps = graph_cache.graph(session=session)
    entries = [e for e in graph.USER_ENTRY_POINTS if e in deps]
    reached = set(entries).union(*(nx.descendants(deps, e) for e in entries))
    facing = {n for n in reached if deps.nodes[n]["kind"] == "service"}
    impact = {}
    for node in deps.nodes:
        hit = {i.slug: i.state for i in graph.blast_radius(deps, node) if i.slug in facing}
        impact[node] = {node: "down", **dict.fromkeys(hit, "degraded")} if node in facing else hit
    rank = {e: i for i, e in enumerate(entries)}
    components = sorted(session.scalars(select(Service).where(Service.slug.in_(facing))),
                        key=lambda s: (rank.get(s.slug, len(rank)), s.tier, s.name))
    return CustomerMap(components=components, impact=impact)


class TeamChoice(NamedTuple):
    slug: str
    name: str


def team_choices(*, session: Session) -> list[TeamChoice]:
    """The slug and name of every team, by name (the catalog list's filter)."""
    return [TeamChoice(*row) for row in session.execute(
        select(Team.slug, Team.name).order_by(Team.name))]


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


def set_dependencies(*, session: Session, service: Service, depends_on: dict[str, str],
                     degrading: AbstractSet[str] = frozenset()) -> None:
    """Make `service` depend on exactly the services named in `depends_on` (slug -> purpose);
    failures of those in `degrading` only degrade it."""
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
            current[slug].critical = slug not in degrading
        else:
            service.dependencies.append(Dependency(depends_on=targets[slug], purpose=purpose,
                                                   critical=slug not in degrading))
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


@dataclass(frozen=True)
class Reached:
    """A catalog entry reached from a set of entries through their dependencies."""
    id: int
    slug: str
    name: str
    path: tuple[str, ...]  # from one of the starting entries to this one


def dependency_subgraph(*, session: Session, slugs: set[str]) -> list[Reached]:
    """`slugs` and everything they depend on (transitively), each with how it is reached."""
    deps = graph_cache.graph(session=session)
    return [Reached(deps.nodes[slug]["id"], slug, deps.nodes[slug]["name"], tuple(path))
            for slug, path in sorted(graph.dependency_paths(deps, slugs).items())]


@dataclass(frozen=True)
class SearchHit:
    kind: str  # service | runbook
    slug: str
    title: str
    snippet: str


def search(*, session: Session, query: str, limit: int = 30) -> list[SearchHit]:
    """Catalog entries and runbooks matching a web-style full-text query, best first."""
    tsquery = func.websearch_to_tsquery("english", query)
    rank = func.ts_rank(Service.search_vector, tsquery)
    snippet = func.ts_headline("english", Service.purpose, tsquery,
                               "MaxFragments=1, MaxWords=18, MinWords=6, StartSel=«, StopSel=»")
    rows = session.execute(select(Service.slug, Service.name, snippet, rank)
                           .where(Service.search_vector.op("@@")(tsquery))
                           .order_by(rank.desc(), Service.name).limit(limit)).all()
    hits = [SearchHit("service", slug, name, text) for slug, name, text, _ in rows]
    hits += [SearchHit("runbook", r.slug, r.title, (r.service.name if r.service else "General"))
             for r in runbooks.search(session=session, query=query, limit=limit)]
    return hits


def runbook_for(*, session: Session, service_slug: str | None = None,
                alertname: str | None = None) -> CatalogRunbook | None:
    """The runbook for an alert (by alert name) or a service; None when there is none."""
    return runbooks.lookup(session=session, service_slug=service_slug, alertname=alertname)


def runbook_links(*, session: Session, alerts: list[tuple[str | None, str]]
                  ) -> dict[tuple[str | None, str], str]:
    """The runbook slug of each (service slug, alert name) that has one, in one statement."""
    return alert_catalogue.runbook_links(session=session, alerts=alerts)


def runbooks_for_incident(*, session: Session, service_ids: list[int],
                          alerts: list[tuple[str | None, str | None]]
                          ) -> list[CatalogRunbook | None]:
    """The runbooks of an incident's services, then the runbook of each of its alerts
    ((service slug, alert name) pairs, as `runbook_for`), in a bounded number of statements."""
    return runbooks.for_incident(session=session, service_ids=service_ids, alerts=alerts)


def scorecard(*, session: Session, service: Service,
              helm_root: Path = readiness.HELM_ROOT) -> readiness.Scorecard:
    """The production-readiness scorecard of one service, evaluated now."""
    return readiness.evaluate(session=session, service=service, helm_root=helm_root)


def critical_checks_failing(*, session: Session, service_id: int,
                            helm_root: Path = readiness.HELM_ROOT) -> list[str]:
    """Titles and reasons of the critical readiness checks the service fails now."""
    service = session.get(Service, service_id)
    if service is None:
        return []
    card = readiness.evaluate(session=session, service=service, helm_root=helm_root)
    return [f"{r.check.title}: {r.detail}" for r in card.critical_failing]


def snapshot_scores(*, session: Session, helm_root: Path = readiness.HELM_ROOT) -> int:
    """Store a score snapshot for every catalog entry; returns how many were stored."""
    rules = readiness.alert_rules()
    services = list_services(session=session)
    for service in services:
        readiness.snapshot(session=session, card=readiness.evaluate(
            session=session, service=service, helm_root=helm_root, rules=rules))
    return len(services)
