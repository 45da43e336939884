"""What the page of one catalog entry reads from the database, in one statement.

The page shows the entry with its dependencies, its team's people, the dependency graph
around it (cached per catalog version, which must be read each time), its Backstage
relations and its image scan reports. The entry, the catalog version, the people and
whether there are relations or reports to read at all come back in one round trip; the
relations and the reports cost a statement of their own only for entries that have some;
the runbooks its scorecard resolves its alerts with come with the entry too.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass

from sqlalchemy import BindParameter, Select, bindparam, exists, func, select
from sqlalchemy.orm import Session, joinedload

from portal.catalog import graph_cache, readiness, runbooks, team_members
from portal.catalog.models import CatalogEntity, Dependency, EntityRelation, Service, Team
from portal.catalog.vulnerability_models import VulnerabilityReport


@dataclass(frozen=True)
class ServiceDetail:
    service: Service  # with its team and dependencies loaded
    graph_version: str  # graph_cache.version, read with the entry
    team_people: list[team_members.TeamPerson]
    has_relations: bool  # its imported entity has relations (to read with entity_store)
    vulnerability_reports: int  # how many image scan reports it has
    runbooks: runbooks.Resolved  # its own and those answering its alerts, for its scorecard


# Building this statement and deriving SQLAlchemy's cache key from it cost more than the
# rest of the read; it differs only by the alert names (the slug is a bound parameter), so
# one object per set of names is kept: SQLAlchemy remembers a statement object's cache key.
@functools.lru_cache(maxsize=256)
def _statement(alertnames: tuple[str, ...]) -> Select:
    slug: BindParameter[str] = bindparam("slug")
    team_slug = select(Team.slug).join(Service, Service.team_id == Team.id) \
        .where(Service.slug == slug).scalar_subquery()
    relations = exists().where(EntityRelation.source_id == CatalogEntity.id,
                               CatalogEntity.service_id == Service.id)
    reports = select(func.count(VulnerabilityReport.id)) \
        .where(VulnerabilityReport.service_id == Service.id).scalar_subquery()
    books = runbooks.resolving_column(service_id=Service.id, alertnames=list(alertnames))
    # Joined, not selectin: the entry and its dependencies in the same statement; of the
    # entries it depends on, the page shows only their link and name.
    return select(Service, graph_cache.version_column(),
                  team_members.members_column(team_slug), relations, reports, books) \
        .where(Service.slug == slug) \
        .options(joinedload(Service.dependencies).joinedload(Dependency.depends_on)
                 .load_only(Service.slug, Service.name))


def _statement_for(alertnames: list[str]) -> Select:
    return _statement(tuple(sorted(set(alertnames))))


def service_detail(*, session: Session, slug: str) -> ServiceDetail | None:
    """The entry `slug` and what its page needs besides, from one statement; None when
    there is no such entry."""
    alertnames = [rule["alert"] for rule in readiness.alert_rules().get(slug, [])]
    row = session.execute(_statement_for(alertnames), {"slug": slug}).unique().first()
    if row is None:
        return None
    service, version, people, has_relations, report_count, found = row
    return ServiceDetail(service=service, graph_version=version,
                         team_people=team_members.from_column(people),
                         has_relations=bool(has_relations),
                         vulnerability_reports=int(report_count or 0),
                         runbooks=runbooks.resolved(found, service_id=service.id,
                                                    alertnames=alertnames))
