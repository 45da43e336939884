"""Runbooks: Markdown kept in the catalog, rendered sanitized, found by service or alert."""
from __future__ import annotations

import re

import nh3
from markdown_it import MarkdownIt
from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import array
from sqlalchemy.orm import Session

from portal.catalog.models import CatalogRunbook, Service
from portal.db import utcnow

# CommonMark plus tables; raw HTML in the source is escaped by the parser and whatever
# HTML the renderer emits is then cleaned again by nh3 (defence in depth).
_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")
_ALLOWED_TAGS = {"h1", "h2", "h3", "h4", "h5", "h6", "p", "ul", "ol", "li", "strong", "em",
                 "code", "pre", "blockquote", "a", "table", "thead", "tbody", "tr", "th", "td",
                 "hr", "br"}
SLUG_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


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


def resolve(*, session: Session, service: Service,
            alertnames: list[str]) -> tuple[list[CatalogRunbook], dict[str, CatalogRunbook | None]]:
    """The service's own runbooks by title, and the runbook answering each of `alertnames`
    (the same choice as `lookup`), from one query whatever the number of alerts."""
    names = sorted(set(alertnames))
    condition = CatalogRunbook.service_id == service.id
    if names:
        condition = condition | CatalogRunbook.alertnames.has_any(array(names))
    found = list(session.scalars(select(CatalogRunbook).where(condition)
                                 .order_by(CatalogRunbook.id)))
    own = [r for r in found if r.service_id == service.id]
    answers: dict[str, CatalogRunbook | None] = {}
    for name in names:
        candidates = [r for r in found if name in (r.alertnames or [])]
        mine = [r for r in candidates if r.service_id == service.id]
        answers[name] = next(iter(mine or candidates or own), None)
    return sorted(own, key=lambda r: r.title), answers


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
