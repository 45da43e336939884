"""What the incident page reads of an incident, kept per process while none of it changes.

The page shows the incident, its services, tenants, alerts, runbooks, pages, postmortem
state, customer updates and timeline. Reading them is most of the page's work, and they change
far less often than watchers reload or poll. One statement (see `db.rows_version_sql`)
tells whether any row they come from changed; while it has not, the plain copy made the
last time is shown again. The copy holds no viewer's data: who may act, CSRF tokens and
times relative to now are added when the page is rendered.
"""
from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from types import SimpleNamespace
from typing import Any

from flask import current_app, request, url_for
from markupsafe import Markup
from sqlalchemy import text
from sqlalchemy.orm import Session

from portal import timefmt
from portal.catalog import service as catalog
from portal.db import rows_version_sql
from portal.incidents import service, timeline
from portal.oncall import paging

_PER_INCIDENT = ("incidents_services", "incidents_tenants", "incidents_runbooks",
                 "incidents_postmortems", "incidents_timeline", "incidents_customer_updates")
# Every row the copy is made from: the incident's own rows, the alerts and pages linked to
# it with the pages' assignees, and the catalog services, tenants and catalog runbooks.
VERSION_SQL = text("SELECT " + rows_version_sql(
    ("incidents_incidents", "WHERE id = :incident_id"),
    *((name, "WHERE incident_id = :incident_id") for name in _PER_INCIDENT),
    ("oncall_alerts", "WHERE incident_id = :incident_id"),
    ("oncall_pages", "WHERE incident_id = :incident_id"),
    ("users", "WHERE id IN (SELECT assignee_id FROM oncall_pages "
              "WHERE incident_id = :incident_id)"),
    "services", "tenants", "catalog_runbooks"))
MAX_KEPT = 64  # incidents x timeline filters; a full table starts again

_SERVICE_FIELDS = ("id", "slug", "name", "namespace", "dashboards", "team_id")
_ALERT_FIELDS = ("fingerprint", "status", "labels", "annotations", "starts_at", "ends_at",
                 "severity", "service", "alertname")
_ENTRY_FIELDS = ("id", "incident_id", "at", "kind", "summary", "body_md", "body_html",
                 "actor_email", "pinned", "details")
_INCIDENT_FIELDS = ("id", "title", "severity", "status", "summary", "customer_facing",
                    "source", "declared_by", "roles", "opened_at", "acknowledged_at",
                    "mitigated_at", "resolved_at", "is_open", "created_at")


@dataclass(frozen=True)
class PageData:
    """A plain copy of what the page shows of one incident (with one timeline filter)."""
    incident: Any
    runbooks: list[dict]
    pages: list[Any]
    updates: list[Any]
    entries: list[Any]
    more: bool
    latest_id: int
    pins: list[Any]


_kept: dict[tuple[int, str | None], tuple[str, PageData | None]] = {}
_lock = threading.Lock()


def _copy(obj: Any, fields: tuple[str, ...], **extra: Any) -> SimpleNamespace:
    return SimpleNamespace(**{f: getattr(obj, f) for f in fields}, **extra)


def runbook_links(session, incident) -> list[dict]:
    """The incident's runbook links (see `panel_views.incident_runbooks`), read through
    `session`."""
    found = catalog.runbooks_for_incident(
        session=session, service_ids=[svc.id for svc in incident.services],
        alerts=[(alert.service, alert.alertname or None) for alert in incident.alerts])
    links = [{"title": r.title, "url": url_for("catalog.runbook_show", slug=r.slug)}
             for r in found if r is not None]
    links += [{"title": r.title, "url": r.url} for r in incident.runbooks]
    unique: dict[str, dict] = {}
    for link in links:
        unique.setdefault(link["url"], link)
    return list(unique.values())


def _read(session: Session, incident_id: int, kind: str | None) -> PageData | None:
    found = service.get_for_page(session=session, incident_id=incident_id)
    if found is None:
        return None
    runbooks = runbook_links(session, found)
    entry = {}  # one copy per entry: a pinned entry is in both lists

    def plain(e):
        if e.id not in entry:
            entry[e.id] = _copy(e, _ENTRY_FIELDS)
        return entry[e.id]

    first = timeline.first_render(session=session, incident_id=incident_id, kind=kind)
    updates = ([_copy(u, ("id", "status", "message", "created_at", "author_email"))
                for u in service.updates(session=session, incident_id=incident_id)]
               if found.customer_facing else [])
    pm = found.postmortem
    incident = _copy(
        found, _INCIDENT_FIELDS,
        services=[_copy(s, _SERVICE_FIELDS) for s in found.services],
        tenants=[_copy(t, ("id", "slug", "name")) for t in found.tenants],
        alerts=[_copy(a, _ALERT_FIELDS) for a in found.alerts],
        runbooks=[_copy(r, ("id", "title", "url")) for r in found.runbooks],
        postmortem=None if pm is None else _copy(pm, ("id", "required", "due_at",
                                                      "completed_at")))
    pages = [SimpleNamespace(id=p.id, status=p.status, assignee=None if p.assignee is None
                             else SimpleNamespace(email=p.assignee.email))
             for p in paging.pages_for_incident(session=session, incident_id=incident_id)]
    return PageData(incident=incident, runbooks=runbooks, pages=pages, updates=updates,
                    entries=[plain(e) for e in first.entries], more=first.more,
                    latest_id=first.latest_id, pins=[plain(e) for e in first.pins])


def page_data(*, session: Session, incident_id: int, kind: str | None) -> PageData | None:
    """The page's copy of the incident (None when it does not exist), read again only when
    a row it comes from changed. Sessions scoped to a tenant see only part of the rows,
    so they always read."""
    if session.info.get("tenant_id") is not None:
        return _read(session, incident_id, kind)
    version = session.execute(VERSION_SQL, {"incident_id": incident_id}).scalar_one()
    key = (incident_id, kind)
    kept = _kept.get(key)
    if kept is not None and kept[0] == version:
        return kept[1]
    data = _read(session, incident_id, kind)
    with _lock:
        if len(_kept) >= MAX_KEPT:
            _kept.clear()
        _kept[key] = (version, data)
    return data



# Parts of the incident page (its head, its timeline and the rest below), rendered once per
# copy above, viewer zone and filter (and, where they show controls, whether the viewer
# responds). Their HTML depends on nothing else but the CSRF token and the wording of times
# relative to now: those are left as markers when a part is rendered, and filled in on
# every request.
CSRF_MARK = "\x00C\x00"
MAX_PARTS = 256
_parts: dict[tuple, tuple[Any, PageData, list[Any]]] = {}


def reused_html(part: str, data: PageData, *, kind: str | None, zone: str,
                viewer: tuple = (), now: datetime, csrf_token: str,
                render: Callable[[], str]) -> Markup:
    """The HTML `render` writes for `part` of `data`'s page, for this request's CSRF token
    and `now`. `viewer` holds whatever else of the viewer the part shows.

    `data` is kept with it: a new copy of the incident (`page_data` makes one whenever a
    row changed) is never served an old render.
    """
    held = _kept.get((data.incident.id, kind))
    if held is None or held[1] is not data:
        # A copy `page_data` does not keep (a tenant's view) is never shown again.
        return Markup(render())
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    # Links are written under the script root of the request.
    key = (part, id(app), request.script_root, data.incident.id, kind, zone, viewer)
    kept = _parts.get(key)
    if kept is None or kept[0] is not app or kept[1] is not data:
        with timefmt.deferring_relative() as instants:
            html = render()
        if not csrf_token or html.count("\x00") != 2 * len(instants):
            # Some shown text held a NUL of its own: render plainly, keep nothing.
            return Markup(render())
        # Literal text at even places, a marker at odd ones: None for the CSRF token, else
        # the instant whose relative wording goes there ("R" and its index).
        pieces: list[Any] = html.replace(csrf_token, CSRF_MARK).split("\x00")
        for i in range(1, len(pieces), 2):
            pieces[i] = None if pieces[i] == "C" else instants[int(pieces[i][1:])]
        kept = (app, data, pieces)
        with _lock:
            if len(_parts) >= MAX_PARTS:
                _parts.clear()
            _parts[key] = kept
    out = kept[2][:]
    for i in range(1, len(out), 2):
        at = out[i]
        out[i] = csrf_token if at is None else timefmt.relative(at, now)
    return Markup("".join(out))
