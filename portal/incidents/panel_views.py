"""Data for the panels other pages include (service page, home page, tenant page)."""
from __future__ import annotations

from flask_login import current_user

from portal.db import utcnow
from portal.extensions import db
from portal.incidents import page_cache, postmortems, service
from portal.incidents.blueprint import bp
from portal.incidents.models import SEVERITIES


@bp.app_template_global()
def incidents_service_panel(svc) -> dict:
    """Open incidents of a service (id, title, severity and status: what the panel shows)
    and how many of its team's postmortems are overdue (the panel shows only the count)."""
    open_incidents, overdue = service.service_panel_rows(
        session=db.session, service_id=svc.id, team_slug=svc.team.slug)
    return {"open": open_incidents, "overdue_count": overdue, "severities": SEVERITIES}


@bp.app_template_global()
def incidents_home_panel(open_incidents: list | None = None, late_items: int | None = None,
                         overdue: list | None = None) -> dict:
    """Open incidents, overdue postmortems and overdue action items for the home page; the
    home passes what it has already read for its other sections (the newest open incidents,
    the late item count, the overdue postmortems) so that they are not read twice."""
    is_manager = current_user.has_role("manager")
    if open_incidents is None:
        open_incidents = service.list_incidents(session=db.session, status="open", limit=20,
                                                bare=True)
    if late_items is None and is_manager:
        late_items = postmortems.count_late_items(session=db.session, today=utcnow().date())
    return {"open": open_incidents,
            "overdue": (overdue if overdue is not None
                        else postmortems.overdue(session=db.session) if is_manager else []),
            "late_items": late_items or 0, "is_manager": is_manager}


@bp.app_template_global()
def incidents_banners(tenant) -> list[tuple]:
    """(incident, latest customer update) of open customer-facing incidents of a tenant."""
    if tenant is None:
        return []
    # The banners show neither the incidents' services nor their tenants.
    found = service.for_tenant(session=db.session, tenant_id=tenant.id, open_only=True,
                               bare=True)
    updates = service.updates_by_incident(session=db.session,
                                          incident_ids=[i.id for i in found]) if found else {}
    return [(incident, next(iter(updates.get(incident.id) or []), None)) for incident in found]


@bp.app_template_global()
def incident_runbooks(incident) -> list[dict]:
    """The incident's runbooks: the catalog's for its services and alerts, then the links
    its alerts carried (each URL once)."""
    return page_cache.runbook_links(db.session, incident)
