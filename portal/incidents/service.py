"""Incidents: declare, move through the lifecycle, assign roles, talk to customers."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import bindparam, exists, func, or_, select, true
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.orm import Session, joinedload, lazyload, selectinload

from portal import events
from portal.auth import service as accounts
from portal.catalog import service as catalog
from portal.catalog.models import Service, Team
from portal.db import utcnow
from portal.incidents import postmortems, timeline
from portal.incidents.models import (
    ROLES,
    SEVERITIES,
    STATUSES,
    CustomerUpdate,
    Incident,
    IncidentService,
    IncidentTenant,
    Postmortem,
    Runbook,
)
from portal.tenants import service as tenants

# Forward moves anyone with a status role may make; the rest needs more (see `_check_move`).
TRANSITIONS = {("triggered", "acknowledged"), ("acknowledged", "mitigated"),
               ("acknowledged", "resolved"), ("mitigated", "resolved")}
ADMIN_ONLY = {("triggered", "mitigated"), ("triggered", "resolved")}
REOPEN = {("mitigated", "acknowledged"), ("resolved", "acknowledged")}
STATUS_ROLES = ("oncall", "manager")
CUSTOMER_MESSAGES = {
    "triggered": "We are investigating an issue that affects your service.",
    "acknowledged": "Our engineers are working on the issue.",
    "mitigated": "A fix is in place and we are monitoring the results.",
    "resolved": "The issue is resolved. Thank you for your patience.",
}


class LifecycleError(ValueError):
    """A move the lifecycle rules forbid; the message names the rule."""


class NotAllowed(PermissionError):
    """The actor's roles do not allow this change; the message says which role would."""


def label(severity: str) -> str:
    """'sev2' -> 'Sev2'."""
    return severity.capitalize()


def _services(session: Session, slugs) -> list:
    found = []
    for slug in dict.fromkeys(s for s in slugs if s):
        service = catalog.get_service(session=session, slug=slug)
        if service is None:
            raise ValueError(f"Unknown service {slug!r}.")
        found.append(service)
    return found


def _tenant_ids(session: Session, slugs) -> list[int]:
    ids = []
    for slug in dict.fromkeys(s for s in slugs if s):
        tenant = tenants.get_by_slug(session=session, slug=slug)
        if tenant is None:
            raise ValueError(f"Unknown tenant {slug!r}.")
        ids.append(tenant.id)
    return ids


def declare(*, session: Session, title: str, severity: str, actor_email: str | None,
            summary: str = "", service_slugs=(), tenant_slugs=(), customer_facing=False,
            source: str = "manual", opened_at: datetime | None = None,
            alert_labels: dict | None = None) -> Incident:
    """Open an incident, record it on its services' timelines and announce it
    (`alert_labels`: those of the alert that opened it, which on-call routes by)."""
    if severity not in SEVERITIES:
        raise ValueError(f"Unknown severity {severity!r}; choose one of Sev1, Sev2, Sev3, Sev4.")
    title = (title or "").strip()
    if not title:
        raise ValueError("An incident needs a title.")
    services = _services(session, service_slugs)
    incident = Incident(title=title[:200], severity=severity, summary=summary,
                        customer_facing=customer_facing, source=source, declared_by=actor_email,
                        roles={"commander": actor_email} if actor_email else {},
                        opened_at=opened_at or utcnow(), services=services,
                        tenant_links=[IncidentTenant(tenant_id=t)
                                      for t in _tenant_ids(session, tenant_slugs)])
    session.add(incident)
    session.flush()
    timeline.add_entry(session=session, incident_id=incident.id, kind="status", pinned=True,
                       summary=f"Incident declared as {label(severity)} ({source})",
                       actor_email=actor_email, at=incident.opened_at,
                       details={"to": "triggered", "source": source})
    if customer_facing:
        publish_update(session=session, incident=incident, actor_email=actor_email,
                       message=CUSTOMER_MESSAGES["triggered"])
    for service in services:
        catalog.record_event(session=session, service=service, kind="incident",
                             summary=f"Incident #{incident.id} declared ({label(severity)}): "
                                     f"{incident.title}", actor_email=actor_email,
                             details={"incident_id": incident.id})
    events.incident_opened.send(session=session, incident_id=incident.id, severity=severity,
                                title=incident.title, service_slugs=[s.slug for s in services],
                                alert_labels=dict(alert_labels or {}))
    return incident


def get(*, session: Session, incident_id: int) -> Incident | None:
    """One incident."""
    return session.get(Incident, incident_id)


def get_for_page(*, session: Session, incident_id: int) -> Incident | None:
    """One incident with what its page shows: its services, tenants, runbooks and
    postmortem joined in (a few rows each) and its alerts (up to hundreds) in a second
    statement."""
    return session.scalars(
        select(Incident).where(Incident.id == incident_id)
        .options(joinedload(Incident.services), joinedload(Incident.tenant_links),
                 joinedload(Incident.runbooks), joinedload(Incident.postmortem),
                 selectinload(Incident.alerts))
    ).unique().one_or_none()


def list_incidents(*, session: Session, status: str | None = None, severity: str | None = None,
                   service: str | None = None, limit: int = 200,
                   bare: bool = False, tenants: bool = True) -> list[Incident]:
    """Incidents newest first; `status` may be 'open' for everything not resolved.

    `bare` skips loading their services and tenants (for lists that show neither),
    `tenants=False` only their tenants (for lists that show only services)."""
    stmt = select(Incident).order_by(Incident.opened_at.desc()).limit(limit)
    if bare:
        stmt = stmt.options(*WITHOUT_LINKS)
    elif not tenants:
        stmt = stmt.options(lazyload(Incident.tenant_links))
    if status == "open":
        stmt = stmt.where(Incident.status != "resolved")
    elif status:
        stmt = stmt.where(Incident.status == status)
    if severity:
        stmt = stmt.where(Incident.severity == severity)
    if service:
        stmt = stmt.where(Incident.services.any(slug=service))
    return list(session.scalars(stmt))


def list_rows(*, session: Session, status: str | None = None, severity: str | None = None,
              service: str | None = None, limit: int = 200) -> list:
    """`list_incidents` as plain rows for the incident list: what its table shows and the
    names of each incident's services (`service_names`, by name), in one statement of
    table columns (cheaper to build and load than one of mapped objects)."""
    inc, link, svc = Incident.__table__.c, IncidentService.__table__.c, Service.__table__.c
    linked = (select(svc.name).select_from(IncidentService.__table__)
              .join(Service.__table__, svc.id == link.service_id)
              .where(link.incident_id == inc.id))
    names = (select(func.array_agg(aggregate_order_by(svc.name, svc.name)))
             .select_from(IncidentService.__table__)
             .join(Service.__table__, svc.id == link.service_id)
             .where(link.incident_id == inc.id).scalar_subquery())
    stmt = (select(inc.id, inc.title, inc.severity, inc.status, inc.customer_facing,
                   inc.opened_at, names.label("service_names"))
            .order_by(inc.opened_at.desc()).limit(limit))
    if status == "open":
        stmt = stmt.where(inc.status != "resolved")
    elif status:
        stmt = stmt.where(inc.status == status)
    if severity:
        stmt = stmt.where(inc.severity == severity)
    if service:
        stmt = stmt.where(linked.where(svc.slug == service).exists())
    return list(session.execute(stmt))


# Options for lists of incidents that show neither services nor tenants: two statements
# fewer per list (those relationships are loaded with every incident otherwise).
WITHOUT_LINKS = (lazyload(Incident.services), lazyload(Incident.tenant_links))


def open_for_service(*, session: Session, service_id: int,
                     bare: bool = False) -> list[Incident]:
    """Open incidents affecting one service (`bare`: without their services and tenants)."""
    stmt = (select(Incident).join(IncidentService, IncidentService.incident_id == Incident.id)
            .where(IncidentService.service_id == service_id, Incident.status != "resolved")
            .order_by(Incident.opened_at.desc()))
    return list(session.scalars(stmt.options(*WITHOUT_LINKS) if bare else stmt))


def _service_panel_statement():
    overdue = (select(func.count().label("n")).select_from(Postmortem)
               .where(Postmortem.required, Postmortem.completed_at.is_(None),
                      Postmortem.due_at < bindparam("now"),
                      Postmortem.incident_id.in_(
                          select(IncidentService.incident_id)
                          .join(Service, Service.id == IncidentService.service_id)
                          .join(Team, Team.id == Service.team_id)
                          .where(Team.slug == bindparam("team_slug"))))
               .subquery())
    open_ = (select(Incident.id, Incident.title, Incident.severity, Incident.status,
                    Incident.opened_at)
             .join(IncidentService, IncidentService.incident_id == Incident.id)
             .where(IncidentService.service_id == bindparam("service_id"),
                    Incident.status != "resolved")
             .subquery())
    # The count's single row, left-joined to the open incidents, still comes back when the
    # service has none (its incident columns are then null).
    return (select(overdue.c.n, open_.c.id, open_.c.title, open_.c.severity, open_.c.status)
            .select_from(overdue.outerjoin(open_, true()))
            .order_by(open_.c.opened_at.desc()))


# Built once: the statement only differs by its parameters, and building it anew on every
# service page costs more than running it.
_SERVICE_PANEL = _service_panel_statement()


def service_panel_rows(*, session: Session, service_id: int, team_slug: str,
                       now: datetime | None = None) -> tuple[list, int]:
    """The service page's incidents panel in one statement: the open incidents affecting the
    service (as `open_for_service`, only the id, title, severity and status it shows) and
    how many postmortems of the team are overdue (as `postmortems.overdue`, counted)."""
    rows = session.execute(_SERVICE_PANEL, {"service_id": service_id, "team_slug": team_slug,
                                            "now": now or utcnow()}).all()
    return [r for r in rows if r.id is not None], rows[0].n


def _check_move(incident: Incident, to: str, actor) -> None:
    move = (incident.status, to)
    if to not in STATUSES:
        raise LifecycleError(f"Unknown status {to!r}.")
    if not actor.has_role(*STATUS_ROLES):
        raise NotAllowed("Changing an incident's status needs the oncall or manager role.")
    if move in TRANSITIONS:
        return
    if move in ADMIN_ONLY:
        if "admin" not in actor.roles:
            raise NotAllowed(f"Only an admin may move an incident from {move[0]} to {to}: "
                             "acknowledge it first.")
        return
    if move in REOPEN:
        if not actor.has_role("manager"):
            raise NotAllowed("Reopening an incident needs the manager role.")
        return
    raise LifecycleError(f"An incident cannot go from {move[0]} to {to}.")


def change_status(*, session: Session, incident: Incident, to: str, actor,
                  due_hours: int = postmortems.DUE_HOURS) -> Incident:
    """Move the incident to `to` if the rules and the actor's roles allow it."""
    _check_move(incident, to, actor)
    timeline.lock_incident(session=session, incident_id=incident.id)
    session.refresh(incident)  # re-read under the lock: two people may click at once
    _check_move(incident, to, actor)
    _move(session, incident, to, actor_email=actor.email, summary=None, due_hours=due_hours)
    return incident


def resolve_when_alerts_resolved(*, session: Session, incident: Incident,
                                 due_hours: int = postmortems.DUE_HOURS) -> bool:
    """Resolve an open incident opened from alerts once all of its alerts are resolved."""
    timeline.lock_incident(session=session, incident_id=incident.id)
    session.refresh(incident)
    if (incident.source != "alert" or not incident.is_open or not incident.alerts
            or any(a.status != "resolved" for a in incident.alerts)):
        return False
    _move(session, incident, "resolved", actor_email=None, due_hours=due_hours,
          summary=f"Status {incident.status} → resolved: all its alerts resolved")
    return True


def _move(session: Session, incident: Incident, to: str, *, actor_email: str | None,
          summary: str | None, due_hours: int) -> None:
    now, previous = utcnow(), incident.status
    incident.status = to
    if to == "acknowledged" and previous in ("mitigated", "resolved"):
        incident.resolved_at = incident.mitigated_at = None
    elif to == "acknowledged":
        incident.acknowledged_at = incident.acknowledged_at or now
    elif to == "mitigated":
        incident.mitigated_at = now
    elif to == "resolved":
        incident.mitigated_at = incident.mitigated_at or now
        incident.resolved_at = now
    timeline.add_entry(session=session, incident_id=incident.id, kind="status", pinned=True,
                       summary=summary or f"Status {previous} → {to}", actor_email=actor_email,
                       details={"from": previous, "to": to})
    if incident.customer_facing:
        publish_update(session=session, incident=incident, actor_email=actor_email,
                       message=CUSTOMER_MESSAGES[to])
    if to == "resolved":
        postmortems.require_if_needed(session=session, incident=incident, due_hours=due_hours)
        for service in incident.services:
            catalog.record_event(session=session, service=service, kind="incident",
                                 summary=f"Incident #{incident.id} resolved: {incident.title}",
                                 actor_email=actor_email, details={"incident_id": incident.id})
    session.flush()
    events.incident_status_changed.send(session=session, incident_id=incident.id,
                                        previous=previous, status=to, actor_email=actor_email,
                                        at=now)


def change_severity(*, session: Session, incident: Incident, severity: str, actor_email: str,
                    due_hours: int = postmortems.DUE_HOURS) -> Incident:
    """Raise or lower the severity, on the record."""
    if severity not in SEVERITIES:
        raise ValueError(f"Unknown severity {severity!r}; choose one of Sev1, Sev2, Sev3, Sev4.")
    if severity == incident.severity:
        return incident
    previous, incident.severity = incident.severity, severity
    timeline.add_entry(session=session, incident_id=incident.id, kind="severity", pinned=True,
                       summary=f"Severity {label(previous)} → {label(severity)}",
                       actor_email=actor_email, details={"from": previous, "to": severity})
    if not incident.is_open:
        postmortems.require_if_needed(session=session, incident=incident, due_hours=due_hours)
    return incident


def assign_role(*, session: Session, incident: Incident, role: str, email: str | None,
                actor_email: str) -> Incident:
    """Give one of the incident roles to a portal user (or clear it with None)."""
    if role not in ROLES:
        raise ValueError(f"Unknown incident role {role!r}.")
    if email:
        user = accounts.get_by_email(session=session, email=email)
        if user is None or not user.is_internal:
            raise ValueError(f"No Meridian staff account has the e-mail {email!r}.")
        email = user.email
    roles = dict(incident.roles)
    if roles.get(role) == email:
        return incident
    roles[role] = email
    incident.roles = {k: v for k, v in roles.items() if v}
    what = f"{ROLES[role]}: {email}" if email else f"{ROLES[role]} unassigned"
    timeline.add_entry(session=session, incident_id=incident.id, kind="role", summary=what,
                       actor_email=actor_email, details={"role": role, "email": email})
    return incident


def publish_update(*, session: Session, incident: Incident, message: str,
                   actor_email: str | None) -> CustomerUpdate:
    """Post a status update the affected tenants see (customer-facing incidents only)."""
    message = (message or "").strip()
    if not incident.customer_facing:
        raise LifecycleError("Only customer-facing incidents publish customer updates.")
    if not message or len(message) > 2000:
        raise ValueError("A customer update has 1 to 2,000 characters.")
    update = CustomerUpdate(incident_id=incident.id, status=incident.status, message=message,
                            author_email=actor_email)
    session.add(update)
    timeline.add_entry(session=session, incident_id=incident.id, kind="customer_update",
                       summary=f"Customer update: {message[:180]}", actor_email=actor_email)
    return update


def add_runbook(*, session: Session, incident: Incident, title: str, url: str) -> Runbook:
    """Link a runbook (http/https URL) to the incident, once."""
    if not url.startswith(("https://", "http://")) or len(url) > 500:
        raise ValueError("A runbook link is an http(s) URL of at most 500 characters.")
    existing = next((r for r in incident.runbooks if r.url == url), None)
    if existing:
        return existing
    runbook = Runbook(title=(title or url)[:200], url=url)
    incident.runbooks.append(runbook)
    session.flush()
    return runbook


def updates(*, session: Session, incident_id: int) -> list[CustomerUpdate]:
    """An incident's customer updates, newest first."""
    return list(session.scalars(select(CustomerUpdate).where(
        CustomerUpdate.incident_id == incident_id).order_by(CustomerUpdate.id.desc())))


def for_tenant(*, session: Session, tenant_id: int, open_only: bool = False,
               days: int = 90, bare: bool = False) -> list[Incident]:
    """Customer-facing incidents affecting one tenant (recent ones, or only open ones;
    `bare`: without their services and tenants)."""
    stmt = (select(Incident).join(IncidentTenant, IncidentTenant.incident_id == Incident.id)
            .where(IncidentTenant.tenant_id == tenant_id, Incident.customer_facing)
            .order_by(Incident.opened_at.desc()))
    if bare:
        stmt = stmt.options(*WITHOUT_LINKS)
    if open_only:
        stmt = stmt.where(Incident.status != "resolved")
    else:
        stmt = stmt.where(Incident.opened_at >= utcnow() - timedelta(days=days))
    return list(session.scalars(stmt))


def status_page_incidents(*, session: Session, tenant_id: int, start: datetime,
                          end: datetime) -> list[Incident]:
    """Customer-facing incidents affecting the tenant, or every tenant (none linked), that
    were open at some point of [start, end), newest first, in one statement."""
    # The link table itself, not the scoped model: "no tenant linked" must count every
    # tenant's links, which a tenant viewer's session would otherwise hide.
    links = IncidentTenant.__table__.c
    stmt = (select(Incident)
            .where(Incident.customer_facing, Incident.opened_at < end,
                   or_(Incident.resolved_at.is_(None), Incident.resolved_at >= start),
                   or_(exists().where(links.incident_id == Incident.id,
                                      links.tenant_id == tenant_id),
                       ~exists().where(links.incident_id == Incident.id)))
            .order_by(Incident.opened_at.desc()))
    return list(session.scalars(stmt))


def updates_by_incident(*, session: Session, incident_ids: list[int]
                        ) -> dict[int, list[CustomerUpdate]]:
    """The customer updates of several incidents, newest first, in one statement."""
    found: dict[int, list[CustomerUpdate]] = {i: [] for i in incident_ids}
    for update in session.scalars(select(CustomerUpdate).where(
            CustomerUpdate.incident_id.in_(incident_ids)).order_by(CustomerUpdate.id.desc())):
        found[update.incident_id].append(update)
    return found
