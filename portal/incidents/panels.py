"""Data for the panels other pages include (service page, home page, tenant page)."""
from __future__ import annotations

from flask import url_for
from flask_login import current_user

from portal.catalog import runbooks as catalog_runbooks
from portal.catalog import service as catalog
from portal.db import utcnow
from portal.extensions import db
from portal.incidents import postmortems, service
from portal.incidents.models import SEVERITIES
from portal.incidents.views import bp


@bp.app_template_global()
def incidents_service_panel(svc) -> dict:
    """Open incidents of a service and its team's overdue postmortems."""
    return {"open": service.open_for_service(session=db.session, service_id=svc.id),
            "overdue": postmortems.overdue(session=db.session, team_slug=svc.team.slug),
            "severities": SEVERITIES}


@bp.app_template_global()
def incidents_home_panel() -> dict:
    """Open incidents, overdue postmortems and overdue action items for the home page."""
    items = postmortems.action_items(session=db.session, status="not_done")
    today = utcnow().date()
    return {"open": service.list_incidents(session=db.session, status="open", limit=20),
            "overdue": postmortems.overdue(session=db.session),
            "late_items": [i for i in items if i.due_date and i.due_date < today],
            "is_manager": current_user.has_role("manager")}


@bp.app_template_global()
def incidents_banners(tenant) -> list[tuple]:
    """(incident, latest customer update) of open customer-facing incidents of a tenant."""
    if tenant is None:
        return []
    out = []
    for incident in service.for_tenant(session=db.session, tenant_id=tenant.id, open_only=True):
        latest = service.updates(session=db.session, incident_id=incident.id)
        out.append((incident, latest[0] if latest else None))
    return out


@bp.app_template_global()
def incident_runbooks(incident) -> list[dict]:
    """The incident's runbooks: the catalog's for its services and alerts, then the links
    its alerts carried (each URL once)."""
    found = []
    for svc in incident.services:
        found += catalog_runbooks.for_service(session=db.session, service=svc)
    for alert in incident.alerts:
        found.append(catalog.runbook_for(session=db.session, service_slug=alert.service_slug,
                                         alertname=alert.alertname or None))
    links = [{"title": r.title, "url": url_for("catalog.runbook_show", slug=r.slug)}
             for r in found if r is not None]
    links += [{"title": r.title, "url": r.url} for r in incident.runbooks]
    unique: dict[str, dict] = {}
    for link in links:
        unique.setdefault(link["url"], link)
    return list(unique.values())
