"""The paging engine: page the primary, escalate unacked pages step by step, ack, resolve.

Every step is recorded as a PageEvent with its timestamp and announced with
`portal.events.page_event`. Time is always passed in (`now`), so the engine is tested with a
frozen clock; the Celery beat tick calls `escalate_due` with the real one.
"""
from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal import events
from portal.auth.models import User
from portal.db import utcnow
from portal.oncall import notify, service
from portal.oncall.models import EscalationStep, Page, PageEvent, Schedule
from portal.oncall.service import OncallError

BUSINESS_DAY_START = time(9, 0)


def next_business_morning(schedule: Schedule | None, now: datetime) -> datetime:
    """09:00 local on the next weekday after today, in the schedule's time zone."""
    zone = ZoneInfo(schedule.timezone if schedule else "UTC")
    day = now.astimezone(zone).date() + timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return datetime.combine(day, BUSINESS_DAY_START, tzinfo=zone)


def open_page_for_incident(*, session: Session, incident_id: int) -> Page | None:
    """The unresolved page of an incident, if any."""
    return session.scalar(select(Page).where(Page.incident_id == incident_id,
                                             Page.status != "resolved"))


def start_paging(*, session: Session, incident_id: int | None, severity: str, title: str,
                 service_slugs: list[str], channels: notify.Channels | None = None,
                 now: datetime | None = None) -> Page:
    """Open a page for an incident and notify the owning team's primary (if due now)."""
    now = now or utcnow()
    if incident_id is not None:
        existing = open_page_for_incident(session=session, incident_id=incident_id)
        if existing is not None:
            return existing
    schedule = service.schedule_for_services(session=session, service_slugs=service_slugs)
    policy = service.get_policy(session=session, severity=severity)
    due = now
    if policy is not None and policy.next_business_day:
        due = next_business_morning(schedule, now)
    page = Page(incident_id=incident_id, schedule=schedule, severity=severity,
                title=title[:300], created_at=now, due_at=due)
    session.add(page)
    session.flush()
    if due <= now:
        _advance(session=session, page=page, channels=channels, now=now)
    return page


def _steps(session: Session, page: Page) -> list[EscalationStep]:
    policy = service.get_policy(session=session, severity=page.severity)
    return list(policy.steps) if policy else []


def _target(session: Session, page: Page, step: EscalationStep | None,
            now: datetime) -> User | None:
    if step is not None and step.target == "user":
        return step.user
    if page.schedule is None:
        return None
    layer = step.target if step is not None else "primary"
    shift = service.on_call(session=session, schedule=page.schedule, layer=layer, at=now)
    return shift.who if shift else None


def _advance(*, session: Session, page: Page, channels: notify.Channels | None,
             now: datetime) -> bool:
    """Notify every step that is due and not yet notified; True if anything was sent."""
    steps = _steps(session, page) or [None]  # no policy: page the primary once
    moved = False
    for position, step in enumerate(steps, start=1):
        offset = timedelta(minutes=step.after_minutes if step else 0)
        if position <= page.step or page.due_at + offset > now:
            continue
        _notify_step(session=session, page=page, position=position, step=step,
                     channels=channels, now=now)
        moved = True
    return moved


def _notify_step(*, session: Session, page: Page, position: int, step: EscalationStep | None,
                 channels: notify.Channels | None, now: datetime) -> None:
    kind = "sent" if position == 1 else "escalated"
    who = _target(session, page, step, now)
    label = (step.label or step.target) if step else "primary"
    page.step = position
    if who is None:
        _record(session, page, "gap", None, f"step {position} ({label}): nobody on call", now)
        return
    page.assignee = who
    _record(session, page, kind, who, f"step {position}: paged {label} {who.email}", now)
    if channels is not None:
        notify.enqueue(session=session, page=page, user=who, channels=channels, now=now,
                       why=f"you are paged as {label}")


def _record(session: Session, page: Page, kind: str, user: User | None, summary: str,
            at: datetime) -> None:
    page.events.append(PageEvent(at=at, kind=kind, user=user, summary=summary))
    session.flush()
    if kind in {"sent", "escalated", "acked", "resolved"}:
        events.page_event.send(session=session, incident_id=page.incident_id, kind=kind,
                               user_email=user.email if user else None, summary=summary, at=at)


def escalate_due(*, session: Session, channels: notify.Channels | None = None,
                 now: datetime | None = None) -> list[Page]:
    """Page or escalate every unacked page whose next step is due; returns those moved."""
    now = now or utcnow()
    pending = session.scalars(select(Page).where(Page.status == "triggered", Page.due_at <= now)
                              .order_by(Page.id).with_for_update(skip_locked=True, of=Page))
    return [page for page in pending
            if _advance(session=session, page=page, channels=channels, now=now)]


def ack(*, session: Session, page: Page, user: User | None, now: datetime | None = None,
        via: str = "portal") -> Page:
    """Acknowledge a triggered page: escalation stops."""
    if page.status != "triggered":
        raise OncallError(f"This page is already {page.status}.")
    now = now or utcnow()
    page.status, page.acked_at, page.acked_by = "acked", now, user
    _record(session, page, "acked", user, f"acknowledged by {_who(user)} via {via}", now)
    return page


def resolve(*, session: Session, page: Page, user: User | None, now: datetime | None = None,
            via: str = "portal") -> Page:
    """Resolve a page (acked or not)."""
    if page.status == "resolved":
        raise OncallError("This page is already resolved.")
    now = now or utcnow()
    page.status, page.resolved_at = "resolved", now
    _record(session, page, "resolved", user, f"resolved by {_who(user)} via {via}", now)
    return page


def _who(user: User | None) -> str:
    return user.email if user is not None else "the portal"


def follow_incident(*, session: Session, incident_id: int, status: str, user: User | None,
                    now: datetime | None = None) -> list[Page]:
    """Ack an incident's triggered pages when it is worked on, resolve them all when it is
    resolved; returns the pages changed."""
    if status not in ("acknowledged", "mitigated", "resolved"):
        return []
    # Locked like escalate_due's rows, so a tick running now cannot escalate a page after
    # this transaction resolved it.
    pages = session.scalars(select(Page).where(Page.incident_id == incident_id,
                                               Page.status != "resolved")
                            .order_by(Page.id).with_for_update(of=Page)).unique().all()
    via = f"incident #{incident_id}"
    changed = []
    for page in pages:
        if status == "resolved":
            changed.append(resolve(session=session, page=page, user=user, now=now, via=via))
        elif page.status == "triggered":
            changed.append(ack(session=session, page=page, user=user, now=now, via=via))
    return changed


def pages_for_incident(*, session: Session, incident_id: int) -> list[Page]:
    """Every page of an incident, oldest first."""
    return list(session.scalars(select(Page).where(Page.incident_id == incident_id)
                                .order_by(Page.id)).unique())


def get_page(*, session: Session, page_id: int) -> Page | None:
    """A page by id."""
    return session.get(Page, page_id)


def open_pages(*, session: Session, user: User | None = None, limit: int = 50) -> list[Page]:
    """Unresolved pages, newest first; only those assigned to `user` when given."""
    stmt = select(Page).where(Page.status != "resolved").order_by(Page.id.desc()).limit(limit)
    if user is not None:
        stmt = stmt.where(Page.assignee_id == user.id)
    return list(session.scalars(stmt).unique())


def recent_pages(*, session: Session, limit: int = 20) -> list[Page]:
    """The newest pages in any state."""
    return list(session.scalars(select(Page).order_by(Page.id.desc()).limit(limit)).unique())


def time_to_ack(page: Page) -> timedelta | None:
    """How long the page waited for an ack (the MTTA sample), from its first notification."""
    if page.acked_at is None:
        return None
    return page.acked_at - page.due_at
