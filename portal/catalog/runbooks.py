"""Runbooks: Markdown kept in the catalog, rendered sanitized, found by service or alert."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Protocol, TypeVar

import nh3
from markdown_it import MarkdownIt
from sqlalchemy import ColumnElement, ScalarSelect, Text, cast, func, literal_column, select
from sqlalchemy.dialects.postgresql import aggregate_order_by, array
from sqlalchemy.orm import QueryableAttribute, Session

from portal.catalog.models import CatalogRunbook, Service
from portal.db import utcnow

# CommonMark plus tables; raw HTML in the source is escaped by the parser and whatever
# HTML the renderer emits is then cleaned again by nh3 (defence in depth).
_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")
_ALLOWED_TAGS = {"h1", "h2", "h3", "h4", "h5", "h6", "p", "ul", "ol", "li", "strong", "em",
                 "code", "pre", "blockquote", "a", "table", "thead", "tbody", "tr", "th", "td",
                 "hr", "br"}
SLUG_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


class _Runbook(Protocol):
    @property
    def service_id(self) -> int | None: ...
    @property
    def alertnames(self) -> list[str]: ...
    @property
    def title(self) -> str: ...


R = TypeVar("R", bound=_Runbook)


def render(body: str) -> str:
    """Markdown to HTML that is safe to embed in a page."""
    return nh3.clean(_markdown.render(body or ""), tags=_ALLOWED_TAGS,
                     url_schemes={"http", "https", "mailto"}, link_rel="noopener noreferrer")


def slugify(title: str) -> str:
    """A URL slug for a runbook title."""
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:80] or "runbook"


def get(*, session: Session, slug: str) -> CatalogRunbook | None:
    """A runbook by slug."""
    return session.scalar(select(CatalogRunbook).where(CatalogRunbook.slug == slug))


def list_all(*, session: Session) -> list[CatalogRunbook]:
    """Every runbook, general ones first, then by title."""
    return list(session.scalars(select(CatalogRunbook).order_by(
        CatalogRunbook.service_id.is_not(None), CatalogRunbook.title)))


def for_service(*, session: Session, service: Service) -> list[CatalogRunbook]:
    """The runbooks that belong to `service`."""
    return list(session.scalars(select(CatalogRunbook)
                                .where(CatalogRunbook.service_id == service.id)
                                .order_by(CatalogRunbook.title)))


def lookup(*, session: Session, service_slug: str | None = None,
           alertname: str | None = None) -> CatalogRunbook | None:
    """The runbook answering `alertname` (preferring the service's own), else the service's."""
    service_id = None
    if service_slug:
        service_id = session.scalar(select(Service.id).where(Service.slug == service_slug))
    if alertname:
        candidates = list(session.scalars(
            select(CatalogRunbook).where(CatalogRunbook.alertnames.contains([alertname]))
            .order_by(CatalogRunbook.id)))
        own = [r for r in candidates if service_id is not None and r.service_id == service_id]
        if own or candidates:
            return (own or candidates)[0]
    if service_id is None:
        return None
    return session.scalar(select(CatalogRunbook).where(CatalogRunbook.service_id == service_id)
                          .order_by(CatalogRunbook.id).limit(1))


def _resolving(service_id: int | ColumnElement[int] | QueryableAttribute[int],
               names: list[str]) -> ColumnElement[bool]:
    condition = CatalogRunbook.service_id == service_id
    if names:
        condition = condition | CatalogRunbook.alertnames.has_any(array(names))
    return condition


def _chosen(found: list[R], service_id: int, names: list[str]
            ) -> tuple[list[R], dict[str, R | None]]:
    own = [r for r in found if r.service_id == service_id]
    answers: dict[str, R | None] = {}
    for name in names:
        candidates = [r for r in found if name in (r.alertnames or [])]
        mine = [r for r in candidates if r.service_id == service_id]
        answers[name] = next(iter(mine or candidates or own), None)
    return sorted(own, key=lambda r: r.title), answers


def resolve(*, session: Session, service: Service,
            alertnames: list[str]) -> tuple[list[CatalogRunbook], dict[str, CatalogRunbook | None]]:
    """The service's own runbooks by title, and the runbook answering each of `alertnames`
    (the same choice as `lookup`), from one query whatever the number of alerts."""
    names = sorted(set(alertnames))
    found = list(session.scalars(select(CatalogRunbook).where(_resolving(service.id, names))
                                 .order_by(CatalogRunbook.id)))
    return _chosen(found, service.id, names)


@dataclass(frozen=True)
class RunbookLink:
    """What a page shows of a runbook: its link, title and the alerts it answers."""
    id: int
    slug: str
    title: str
    service_id: int | None
    alertnames: list[str]


def resolving_column(*, service_id: ColumnElement[int] | QueryableAttribute[int],
                     alertnames: list[str]) -> ScalarSelect[str]:
    """The runbooks `resolve` chooses from, as one JSON text column of a larger statement
    (`service_id` is the column of the service in it); see `resolved`."""
    row = func.json_build_array(CatalogRunbook.id, CatalogRunbook.slug, CatalogRunbook.title,
                                CatalogRunbook.service_id, CatalogRunbook.alertnames)
    listed = func.json_agg(aggregate_order_by(row, CatalogRunbook.id))
    return select(cast(func.coalesce(listed, literal_column("'[]'::json")), Text)) \
        .where(_resolving(service_id, sorted(set(alertnames)))).scalar_subquery()


@dataclass(frozen=True)
class Resolved:
    """`resolve`'s answer read with the page's main statement (`resolving_column`)."""
    alertnames: tuple[str, ...]  # the alert names it was read for
    own: list[RunbookLink]
    answers: dict[str, RunbookLink | None]


def resolved(value: str | None, *, service_id: int, alertnames: list[str]) -> Resolved:
    """`resolve`'s choice among the runbooks of a `resolving_column` value."""
    found = [RunbookLink(id_, slug, title, owner, list(names or []))
             for id_, slug, title, owner, names in json.loads(value or "[]")]
    names = sorted(set(alertnames))
    own, answers = _chosen(found, service_id, names)
    return Resolved(tuple(names), own, answers)


def for_incident(*, session: Session, service_ids: list[int],
                 alerts: list[tuple[str | None, str | None]]) -> list[CatalogRunbook | None]:
    """Each service's runbooks (by title), then `lookup`'s answer for each (service slug,
    alert name), from two statements however many services and alerts there are."""
    slugs = {slug for slug, _ in alerts if slug}
    ids = dict(session.execute(select(Service.slug, Service.id)
                               .where(Service.slug.in_(slugs))).tuples().all()) if slugs else {}
    names = sorted({name for _, name in alerts if name})
    owners = set(service_ids) | set(ids.values())
    condition = CatalogRunbook.service_id.in_(owners) if owners else None
    if names:
        match = CatalogRunbook.alertnames.has_any(array(names))
        condition = match if condition is None else condition | match
    found: list[CatalogRunbook] = [] if condition is None else list(session.scalars(
        select(CatalogRunbook).where(condition).order_by(CatalogRunbook.id)))
    out: list[CatalogRunbook | None] = []
    for service_id in service_ids:
        owned = sorted((r for r in found if r.service_id == service_id), key=lambda r: r.title)
        out += owned
    for slug, name in alerts:
        owner = ids.get(slug) if slug else None
        candidates = [r for r in found if name and name in (r.alertnames or [])]
        own = [r for r in candidates if owner is not None and r.service_id == owner]
        fallback = [r for r in found if owner is not None and r.service_id == owner]
        out.append(next(iter(own or candidates or fallback), None))
    return out


def save(*, session: Session, slug: str, title: str, body: str, service: Service | None,
         alertnames: list[str], actor_email: str | None) -> CatalogRunbook:
    """Create or update a runbook by slug."""
    runbook = get(session=session, slug=slug) or CatalogRunbook(slug=slug)
    runbook.title, runbook.body, runbook.service = title, body, service
    runbook.alertnames = sorted(set(alertnames))
    runbook.updated_at, runbook.updated_by = utcnow(), actor_email
    session.add(runbook)
    session.flush()
    return runbook


def search(*, session: Session, query: str, limit: int = 20) -> list[CatalogRunbook]:
    """Runbooks matching a web-style full-text query, best first."""
    tsquery = func.websearch_to_tsquery("english", query)
    rank = func.ts_rank(CatalogRunbook.search_vector, tsquery)
    return list(session.scalars(select(CatalogRunbook)
                                .where(CatalogRunbook.search_vector.op("@@")(tsquery))
                                .order_by(rank.desc(), CatalogRunbook.title).limit(limit)))
