"""Blameless postmortems (from a template) and the action items that come out of them.

Postmortems are written for any Sev1 or Sev2 incident within 48 hours of resolution.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, contains_eager

from portal.catalog.models import Service, Team
from portal.db import utcnow
from portal.incidents import timeline
from portal.incidents.models import (
    ACTION_STATUSES,
    ActionItem,
    Incident,
    IncidentService,
    Postmortem,
)

DUE_HOURS = 48
REQUIRED_FOR = ("sev1", "sev2")
SECTIONS = (  # field, heading, hint shown in the form
    ("summary", "Summary", "What happened, in two or three sentences."),
    ("impact", "Impact", "Duration, affected tenants and services, customer effect."),
    ("timeline", "Timeline", "Pre-filled from the incident; edit freely."),
    ("root_cause", "Root cause", "The system conditions that made this possible."),
    ("contributing_factors", "Contributing factors", "What made it worse or slower to fix."),
    ("went_well", "What went well", ""),
    ("went_badly", "What went badly", "About systems and processes, not people."),
    ("lessons", "Lessons learned", ""),
)
FIELDS = tuple(name for name, _, _ in SECTIONS)
REQUIRED_TO_COMPLETE = ("summary", "impact", "root_cause")
MAX_SECTION_CHARS = 20_000


def require_if_needed(*, session: Session, incident: Incident,
                      due_hours: int = DUE_HOURS) -> Postmortem | None:
    """Make the postmortem required, due `due_hours` after resolution, for Sev1/Sev2."""
    if incident.severity not in REQUIRED_FOR or incident.resolved_at is None:
        return None
    postmortem = start(session=session, incident=incident)
    postmortem.required = True
    postmortem.due_at = incident.resolved_at + timedelta(hours=due_hours)
    session.flush()
    return postmortem


def _duration(incident: Incident) -> str:
    end = incident.resolved_at or utcnow()
    minutes = int((end - incident.opened_at).total_seconds() // 60)
    return f"{minutes // 60} h {minutes % 60} min" if minutes >= 60 else f"{minutes} min"


def prefill(*, session: Session, incident: Incident) -> dict[str, str]:
    """Impact and timeline sections drafted from what the incident recorded."""
    tenants = ", ".join(t.name for t in incident.tenants) or "none recorded"
    services = ", ".join(s.name for s in incident.services) or "none recorded"
    impact = (f"- Duration: {_duration(incident)}\n- Severity: {incident.severity.capitalize()}\n"
              f"- Affected services: {services}\n- Affected tenants: {tenants}\n"
              f"- Customer-facing: {'yes' if incident.customer_facing else 'no'}")
    lines = [f"- {e.at:%Y-%m-%d %H:%M} UTC [{e.kind}] {e.summary}"
             for e in timeline.all_entries(session=session, incident_id=incident.id)]
    return {"impact": impact, "timeline": "\n".join(lines)}


def draft(*, session: Session, incident: Incident) -> Postmortem:
    """An unsaved postmortem pre-filled from the template (nothing is written)."""
    return Postmortem(**prefill(session=session, incident=incident))


def start(*, session: Session, incident: Incident) -> Postmortem:
    """The incident's postmortem, created from the template on first use."""
    if incident.postmortem is not None:
        return incident.postmortem
    postmortem = Postmortem(incident=incident, **prefill(session=session, incident=incident))
    session.add(postmortem)
    session.flush()
    return postmortem


def save(*, session: Session, postmortem: Postmortem, fields: dict[str, str],
         actor_email: str, complete: bool = False) -> Postmortem:
    """Store the sections; `complete` also marks it done once the key sections are written."""
    for name in FIELDS:
        value = (fields.get(name) or "").replace("\r\n", "\n").strip()
        if len(value) > MAX_SECTION_CHARS:
            raise ValueError(f"Each section has at most {MAX_SECTION_CHARS:,} characters.")
        setattr(postmortem, name, value)
    postmortem.updated_by = actor_email
    if complete:
        missing = [n.replace("_", " ") for n in REQUIRED_TO_COMPLETE if not getattr(postmortem, n)]
        if missing:
            raise ValueError(f"Write the {', '.join(missing)} before completing the postmortem.")
        if postmortem.completed_at is None:
            postmortem.completed_at = utcnow()
            timeline.add_entry(session=session, incident_id=postmortem.incident_id,
                               kind="postmortem", summary="Postmortem completed",
                               actor_email=actor_email)
    session.flush()
    return postmortem


def is_overdue(postmortem: Postmortem, now: datetime | None = None) -> bool:
    """Required, not completed, and past its due time."""
    return bool(postmortem.required and postmortem.completed_at is None and postmortem.due_at
                and postmortem.due_at < (now or utcnow()))


def overdue(*, session: Session, team_slug: str | None = None,
            now: datetime | None = None) -> list[Postmortem]:
    """Required postmortems past their due time, oldest due first (optionally one team's)."""
    # The incident comes from the same join (titles are shown), without its links.
    stmt = (select(Postmortem).join(Postmortem.incident)
            .options(contains_eager(Postmortem.incident).lazyload(Incident.services),
                     contains_eager(Postmortem.incident).lazyload(Incident.tenant_links))
            .where(Postmortem.required, Postmortem.completed_at.is_(None),
                   Postmortem.due_at < (now or utcnow()))
            .order_by(Postmortem.due_at))
    if team_slug:
        stmt = stmt.where(Incident.id.in_(_team_incident_ids(team_slug)))
    return list(session.scalars(stmt))


def _team_incident_ids(team_slug: str):
    return (select(IncidentService.incident_id)
            .join(Service, Service.id == IncidentService.service_id)
            .join(Team, Team.id == Service.team_id).where(Team.slug == team_slug))


def to_markdown(*, postmortem: Postmortem, items: list[ActionItem]) -> str:
    """The postmortem as a Markdown document."""
    incident = postmortem.incident
    out = [f"# Postmortem: {incident.title}", "",
           f"Incident #{incident.id} · {incident.severity.capitalize()} · opened "
           f"{incident.opened_at:%Y-%m-%d %H:%M} UTC"
           + (f" · resolved {incident.resolved_at:%Y-%m-%d %H:%M} UTC"
              if incident.resolved_at else ""),
           "", "_Blameless: this document is about systems and processes, not people._", ""]
    for name, heading, _ in SECTIONS:
        out += [f"## {heading}", "", getattr(postmortem, name) or "_Not written yet._", ""]
    out += ["## Action items", "", "| Action | Owner | Due | Status |", "|---|---|---|---|"]
    out += [f"| {i.title.replace('|', '/')} | {i.owner_email} | {i.due_date or '—'} | "
            f"{i.status} |" for i in items]
    return "\n".join(out) + "\n"


def add_action_item(*, session: Session, incident: Incident, title: str, owner_email: str,
                    due_date: date | None) -> ActionItem:
    """A follow-up with an owner and an optional due date."""
    title = (title or "").strip()
    if not title or len(title) > 300:
        raise ValueError("An action item has a title of 1 to 300 characters.")
    item = ActionItem(incident=incident, title=title, owner_email=owner_email.strip().lower(),
                      due_date=due_date)
    session.add(item)
    session.flush()
    return item


def set_action_status(*, session: Session, item: ActionItem, status: str) -> ActionItem:
    """Move an action item to open, in progress or done."""
    if status not in ACTION_STATUSES:
        raise ValueError(f"Unknown action item status {status!r}.")
    item.status = status
    item.completed_at = utcnow() if status == "done" else None
    session.flush()
    return item


def get_action_item(*, session: Session, item_id: int) -> ActionItem | None:
    """One action item."""
    return session.get(ActionItem, item_id)


def count_late_items(*, session: Session, today: date) -> int:
    """How many action items not done are past their due date."""
    return session.execute(select(func.count()).select_from(ActionItem).where(
        ActionItem.status != "done", ActionItem.due_date < today)).scalar_one()


def action_items(*, session: Session, incident_id: int | None = None, status: str | None = None,
                 owner: str | None = None, team_slug: str | None = None) -> list[ActionItem]:
    """Action items across incidents, open ones first, by due date."""
    stmt = select(ActionItem).order_by(ActionItem.status == "done", ActionItem.due_date.asc()
                                       .nulls_last(), ActionItem.id)
    if incident_id is not None:
        stmt = stmt.where(ActionItem.incident_id == incident_id)
    if status == "not_done":
        stmt = stmt.where(ActionItem.status != "done")
    elif status:
        stmt = stmt.where(ActionItem.status == status)
    if owner:
        stmt = stmt.where(ActionItem.owner_email.ilike(f"%{owner}%"))
    if team_slug:
        stmt = stmt.where(ActionItem.incident_id.in_(_team_incident_ids(team_slug)))
    return list(session.scalars(stmt))
