"""One search box over what people look for in the middle of an incident: services,
runbooks, incidents, SLOs, people, schedules and environments.

Each kind is searched only for people whose roles open its pages, so the box never shows
a result that would answer 403. Matching is a case-insensitive substring (escaped, so `%`
and `_` are plain characters) over a few columns per kind, with prefix matches first;
every kind is one bounded query, so a search costs at most seven statements.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import url_for
from sqlalchemy import String, case, cast, or_, select
from sqlalchemy.orm import Session

from portal.auth.models import User
from portal.catalog.models import CatalogRunbook, Service
from portal.incidents.models import Incident
from portal.oncall.models import Schedule
from portal.selfservice.models import Environment
from portal.slo.models import Slo

MAX_QUERY = 100
PER_KIND = 5
INTERNAL = ("developer", "oncall", "manager")


class BadQuery(ValueError):
    """The query cannot be searched for; the message says why."""


@dataclass(frozen=True)
class Hit:
    kind: str
    title: str
    detail: str
    url: str


def clean_query(raw: str | None) -> str:
    """The query as searched: trimmed, single-spaced; refused when it cannot be stored."""
    text = " ".join((raw or "").split())
    if "\x00" in text:
        raise BadQuery("The search contains a NUL character.")
    if len(text) > MAX_QUERY:
        raise BadQuery(f"Search for at most {MAX_QUERY} characters.")
    return text


def _like(text: str) -> tuple[str, str]:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%", f"{escaped}%"


def _matching(columns, text: str):
    anywhere, prefix = _like(text)
    where = or_(*(column.ilike(anywhere, escape="\\") for column in columns))
    first = case((or_(*(column.ilike(prefix, escape="\\") for column in columns)), 0), else_=1)
    return where, first


def _services(session: Session, text: str, user) -> list[Hit]:
    where, first = _matching((Service.slug, Service.name), text)
    rows = session.scalars(select(Service).where(where).order_by(first, Service.name)
                           .limit(PER_KIND))
    return [Hit("Service", s.name, s.slug, url_for("catalog.service_detail", slug=s.slug))
            for s in rows]


def _runbooks(session: Session, text: str, user) -> list[Hit]:
    where, first = _matching((CatalogRunbook.slug, CatalogRunbook.title,
                              cast(CatalogRunbook.alertnames, String)), text)
    rows = session.scalars(select(CatalogRunbook).where(where)
                           .order_by(first, CatalogRunbook.title).limit(PER_KIND))
    return [Hit("Runbook", r.title, ", ".join(r.alertnames[:3]) or r.slug,
                url_for("catalog.runbook_show", slug=r.slug)) for r in rows]


def _incidents(session: Session, text: str, user) -> list[Hit]:
    where, first = _matching((Incident.title, cast(Incident.id, String)), text)
    rows = session.scalars(select(Incident).where(where)
                           .order_by(first, Incident.opened_at.desc()).limit(PER_KIND))
    return [Hit("Incident", f"#{i.id} {i.title}", f"{i.severity} · {i.status}",
                url_for("incidents.show", incident_id=i.id)) for i in rows]


def _slos(session: Session, text: str, user) -> list[Hit]:
    where, first = _matching((Slo.name, Service.name, Service.slug), text)
    rows = session.execute(select(Slo.id, Slo.name, Service.name).join(Service)
                           .where(where).order_by(first, Service.name, Slo.name)
                           .limit(PER_KIND))
    return [Hit("SLO", f"{service} · {name}", "service level objective",
                url_for("slo.detail", slo_id=slo_id)) for slo_id, name, service in rows]


def _people(session: Session, text: str, user) -> list[Hit]:
    where, first = _matching((User.name, User.email), text)
    rows = session.scalars(select(User).where(where, User.is_active, User.tenant_id.is_(None))
                           .order_by(first, User.name).limit(PER_KIND))
    return [Hit("Person", u.name, f"{u.email} · {', '.join(u.roles)}", f"mailto:{u.email}")
            for u in rows]


def _schedules(session: Session, text: str, user) -> list[Hit]:
    where, first = _matching((Schedule.slug, Schedule.name), text)
    rows = session.scalars(select(Schedule).where(where).order_by(first, Schedule.name)
                           .limit(PER_KIND))
    return [Hit("Schedule", s.name, s.timezone, url_for("oncall.schedules.show", slug=s.slug))
            for s in rows]


def _environments(session: Session, text: str, user) -> list[Hit]:
    where, first = _matching((Environment.name, Environment.template), text)
    # The self-service page lists the caller's own environments, so only those are found.
    rows = session.scalars(select(Environment).where(where, Environment.status != "destroyed",
                                                     Environment.owner_id == user.id)
                           .order_by(first, Environment.name).limit(PER_KIND))
    return [Hit("Environment", e.name, f"{e.tier} · {e.status} · {e.owner.email}",
                url_for("selfservice.index", _anchor=f"env-{e.name}")) for e in rows]


SOURCES: tuple[tuple[str, tuple[str, ...], Callable[[Session, str, User], list[Hit]]], ...] = (
    ("services", INTERNAL, _services),
    ("runbooks", INTERNAL, _runbooks),
    ("incidents", INTERNAL, _incidents),
    ("slos", INTERNAL, _slos),
    ("schedules", ("oncall", "manager"), _schedules),
    ("people", INTERNAL, _people),
    ("environments", ("developer", "manager"), _environments),
)


def may_search(user) -> bool:
    return user.is_authenticated and user.has_role(*INTERNAL)


def search(*, session: Session, user, query: str) -> list[Hit]:
    """Hits for `query` across every kind `user` may open, grouped by kind."""
    text = clean_query(query)
    if not text:
        return []
    return [hit for _name, roles, find in SOURCES if user.has_role(*roles)
            for hit in find(session, text, user)]


def grouped(hits: list[Hit]) -> list[tuple[str, list[Hit]]]:
    """Hits by kind, kinds in the order they are searched."""
    groups: dict[str, list[Hit]] = {}
    for hit in hits:
        groups.setdefault(hit.kind, []).append(hit)
    return list(groups.items())
