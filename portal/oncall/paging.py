"""The paging engine: page the on-call people, escalate unacked pages step by step, ack,
resolve.

A page runs the steps of the chain a route chose for its alert, else of its severity's
policy (step kinds: `portal.oncall.escalation`). The page keeps a cursor: `step` is the
position of the last step run in the current pass (0 = none), `cycle` the passes a
`repeat` step started, `step_at` when the last step ran (a `wait` counts from it) and
`cycle_at` when the pass began (a `page` step's offset counts from it). Both are the
times steps were due, not when a tick happened to run them, so a late tick runs every
overdue step and later steps keep their schedule. A `notify_if_count` step holds the page
(`held_since`) until its condition holds; later waits count from when it opened.

Every step is recorded as a PageEvent with its timestamp and notifications are announced
with `portal.events.page_event`. Time is always passed in (`now`), so the engine is tested
with a frozen clock; the Celery beat tick calls `escalate_due` with the real one. What a
new page's first steps queue for now is sent right after the transaction that opened the
page commits (not on the next tick); the tick sends what later steps queue.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from dateutil import rrule
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from portal import events
from portal.auth.models import User
from portal.auth.oidc_accounts import team_members
from portal.db import utcnow
from portal.oncall import notify, routing, service, step_webhooks
from portal.oncall.escalation import MAX_REPEATS, MAX_STEPS, NOTIFYING, describe
from portal.oncall.escalation_models import EscalationChain, EscalationRoute
from portal.oncall.models import LAYERS, EscalationStep, Page, PageEvent, Schedule
from portal.oncall.service import OncallError

BUSINESS_DAY_START = time(9, 0)
BUSINESS_DAYS = (rrule.MO, rrule.TU, rrule.WE, rrule.TH, rrule.FR)
# Each run of the loop runs one step; a chain cannot take more than this in one call.
LOOP_BOUND = MAX_STEPS * (MAX_REPEATS + 1) + 1
NOTIFIED = ("sent", "escalated")


def next_business_morning(schedule: Schedule | None, now: datetime) -> datetime:
    """09:00 local on the next weekday after today, in the schedule's time zone."""
    zone = ZoneInfo(schedule.timezone if schedule else "UTC")
    tomorrow = datetime.combine(now.astimezone(zone).date() + timedelta(days=1),
                                BUSINESS_DAY_START)
    weekday = rrule.rrule(rrule.DAILY, byweekday=BUSINESS_DAYS, dtstart=tomorrow)[0]
    return weekday.replace(tzinfo=zone)


def open_page_for_incident(*, session: Session, incident_id: int) -> Page | None:
    """The unresolved page of an incident, if any."""
    return session.scalar(select(Page).where(Page.incident_id == incident_id,
                                             Page.status != "resolved"))


def start_paging(*, session: Session, incident_id: int | None, severity: str, title: str,
                 service_slugs: list[str], channels: notify.Channels | None = None,
                 now: datetime | None = None, alert_labels: dict | None = None) -> Page:
    """Open a page for an incident and run its first steps (if due now).

    `alert_labels` are the labels of the alert that opened the incident: a route whose
    matcher selects them chooses the chain; without a match the severity's policy pages.
    The severity's hold until the next business morning applies either way.
    """
    now = now or utcnow()
    if incident_id is not None:
        existing = open_page_for_incident(session=session, incident_id=incident_id)
        if existing is not None:
            return existing
    schedule = service.schedule_for_services(session=session, service_slugs=service_slugs)
    policy = service.get_policy(session=session, severity=severity)
    labels = {str(k): str(v) for k, v in (alert_labels or {}).items()}
    route = routing.route_for(session=session, labels=labels)
    due = now
    if policy is not None and policy.next_business_day:
        due = next_business_morning(schedule, now)
    page = Page(incident_id=incident_id, schedule=schedule, severity=severity,
                title=title[:300], created_at=now, due_at=due, alert_labels=labels,
                route_id=route.id if route else None, chain_id=route.chain_id if route else None)
    session.add(page)
    session.flush()
    if due <= now:
        _advance(session=session, page=page, channels=channels, now=now, at_commit=True)
    return page


def _steps(session: Session, page: Page) -> list[EscalationStep | None]:
    """The steps the page runs; [None] (page the primary once) when there are none."""
    chain = session.get(EscalationChain, page.chain_id) if page.chain_id else None
    if chain is not None and chain.steps:
        return list(chain.steps)
    policy = service.get_policy(session=session, severity=page.severity)
    return list(policy.steps) if policy and policy.steps else [None]


def _due(page: Page, step: EscalationStep | None, base: datetime) -> datetime:
    if step is None:
        return base
    if step.kind == "wait":
        return base + timedelta(minutes=step.minutes)
    if step.kind == "page":
        return max(base, (page.cycle_at or page.due_at) + timedelta(minutes=step.after_minutes))
    return base


def _advance(*, session: Session, page: Page, channels: notify.Channels | None,
             now: datetime, at_commit: bool = False) -> bool:
    """Run every step that is due, in order; True if anything happened. `at_commit`: the
    page is new, so what its steps queue for now is sent as soon as the transaction
    commits (`notify.send_after_commit`) rather than by the next paging tick."""
    steps = _steps(session, page)
    moved = False
    for _ in range(LOOP_BOUND):
        if page.status != "triggered" or page.step >= len(steps):
            break
        step, position = steps[page.step], page.step + 1
        kind = step.kind if step is not None else "page"
        due = _due(page, step, page.step_at or page.due_at)
        if due > now:
            break
        # A step of any kind but "page" is never None (None stands for "page the primary").
        if kind == "notify_if_count" and step is not None:
            if not _condition_holds(session, page, step, position, now):
                break
            if page.held_since is not None:  # it opened now: later waits count from here
                due, page.held_since = now, None
        elif kind == "repeat" and step is not None and page.cycle < step.count:
            page.cycle += 1
            page.step, page.step_at, page.cycle_at = 0, due, due
            _record(session, page, "repeated", None, f"step {position}: from the top again "
                    f"(pass {page.cycle + 1} of {step.count + 1})", now)
            moved = True
            continue
        elif kind in NOTIFYING:
            _notify_step(session=session, page=page, position=position, step=step,
                         channels=channels, now=now, at_commit=at_commit)
        elif kind == "webhook" and step is not None:
            hook = step_webhooks.queue(session=session, page=page, position=position,
                                       url=step.webhook_url, now=now)
            _record(session, page, "webhook", None,
                    f"step {position}: webhook to {step_webhooks.host(hook.url)} queued", now)
        page.step, page.step_at = position, due
        moved = True
    return moved


def _condition_holds(session: Session, page: Page, step: EscalationStep, position: int,
                     now: datetime) -> bool:
    route = session.get(EscalationRoute, page.route_id) if page.route_id else None
    found = routing.group_count(session=session, page=page, route=route, minutes=step.minutes,
                                now=now, enough=step.count)
    if found is None or found >= step.count:
        return True
    if page.held_since is None:
        page.held_since = now
        _record(session, page, "held", None, f"step {position}: waiting for {step.count} "
                f"alerts within {step.minutes} min ({found} so far)", now)
    return False


def _people(session: Session, page: Page, step: EscalationStep | None,
            now: datetime) -> list[User]:
    """Who the step notifies now, without duplicates or deactivated accounts."""
    kind = step.kind if step is not None else "page"
    found: list[User] = []
    if kind == "page" and step is not None and step.target == "user":
        found = [step.user] if step.user else []
    elif kind == "page":
        layer = step.target if step is not None else "primary"
        assert layer is not None  # why: validate_steps requires a target on every page step
        shift = None if page.schedule is None else service.on_call(
            session=session, schedule=page.schedule, layer=layer, at=now)
        found = [shift.who] if shift and shift.who else []
    elif kind == "notify_users" and step is not None:
        found = list(step.users)
    elif kind == "notify_group" and step is not None and step.team is not None:
        found = team_members(session=session, team_slug=step.team.slug)
    elif kind == "notify_schedule" and step is not None:
        schedule = step.schedule or page.schedule
        if schedule is not None:
            for layer in LAYERS:
                shift = service.on_call(session=session, schedule=schedule, layer=layer, at=now)
                found.extend(shift.everyone if shift else ())
    unique = {u.id: u for u in found if u is not None and u.is_active}
    return list(unique.values())


def _label(step: EscalationStep | None) -> str:
    if step is None:
        return "primary"
    if step.kind == "page":
        assert step.target is not None  # why: validate_steps requires it on every page step
        return step.label or step.target
    return step.label or describe(step)


def _notify_step(*, session: Session, page: Page, position: int, step: EscalationStep | None,
                 channels: notify.Channels | None, now: datetime,
                 at_commit: bool = False) -> None:
    label = _label(step)
    people = _people(session, page, step, now)
    page.step = position
    if not people:
        _record(session, page, "gap", None, f"step {position} ({label}): nobody on call", now)
        return
    kind = "escalated" if any(e.kind in NOTIFIED for e in page.events) else "sent"
    important = bool(step is not None and step.important)
    page.assignee = people[0]
    who = ", ".join(u.email for u in people)
    loud = " (important)" if important else ""
    _record(session, page, kind, people[0], f"step {position}: paged {label} {who}{loud}", now)
    if channels is not None:
        queued = [note for user in people
                  for note in notify.enqueue(session=session, page=page, user=user,
                                             channels=channels, now=now,
                                             why=f"you are paged as {label}",
                                             important=important)]
        if at_commit and any(note.next_attempt_at <= now for note in queued):
            notify.send_after_commit(session=session, page_id=page.id)


def _record(session: Session, page: Page, kind: str, user: User | None, summary: str,
            at: datetime) -> None:
    page.events.append(PageEvent(at=at, kind=kind, user=user, summary=summary[:300]))
    session.flush()
    if kind in {"sent", "escalated", "acked", "resolved"}:
        events.page_event.send(session=session, incident_id=page.incident_id, kind=kind,
                               user_email=user.email if user else None, summary=summary, at=at,
                               page_id=page.id)


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
    notify.cancel_pending(session=session, page=page)  # no more repeats or later rules
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


def escalate_now(*, session: Session, page: Page, user: User | None,
                 channels: notify.Channels | None, now: datetime | None = None,
                 via: str = "portal") -> Page:
    """Run the page's next notifying step now instead of waiting for its timeout (a person
    asked for help); later waits count from now."""
    if page.status != "triggered":
        raise OncallError(f"This page is already {page.status}; only a triggered page "
                          "escalates.")
    now = now or utcnow()
    steps = _steps(session, page)
    position = next((i + 1 for i, step in enumerate(steps[page.step:], start=page.step)
                     if step is None or step.kind in NOTIFYING), None)
    if position is None:
        raise OncallError("It is already at the last escalation step.")
    _record(session, page, "escalate", user, f"escalation asked by {_who(user)} via {via}",
            now)
    _notify_step(session=session, page=page, position=position, step=steps[position - 1],
                 channels=channels, now=now)
    page.step, page.step_at = position, now
    return page


def _who(user: User | None) -> str:
    """A person as the timelines name them: by name, e-mail when no name is known."""
    return (user.name or user.email) if user is not None else "the portal"


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


@dataclass(frozen=True)
class Assignee:
    name: str


@dataclass(frozen=True)
class PageRow:
    """What the lists of open pages show of a page (`oncall/_pages.html`)."""
    id: int
    title: str
    incident_id: int | None
    severity: str
    status: str
    assignee_id: int | None
    created_at: datetime
    assignee: Assignee | None


OPEN_PAGES_SHOWN = 50  # the newest this many, unless the caller asks for another limit
# The viewer's open pages and (when asked) every open page in one statement of plain
# columns: loading Page objects would also join two users and the schedule and read every
# page's events, none of which the lists show.
_OPEN_PAGES = text(f"""
SELECT p.id, p.title, p.incident_id, p.severity, p.status, p.assignee_id, p.created_at,
       u.name, p.mine
FROM ((SELECT id, title, incident_id, severity, status, assignee_id, created_at, true AS mine
       FROM {Page.__tablename__} WHERE status <> 'resolved' AND assignee_id = :viewer
       ORDER BY id DESC LIMIT :shown)
      UNION ALL
      (SELECT id, title, incident_id, severity, status, assignee_id, created_at, false
       FROM {Page.__tablename__} WHERE status <> 'resolved' AND CAST(:others AS boolean)
       ORDER BY id DESC LIMIT :shown)) p
LEFT JOIN {User.__tablename__} u ON u.id = p.assignee_id
ORDER BY p.mine DESC, p.id DESC
""")


def open_page_lists(*, session: Session, viewer_id: int | None, others: bool,
                    limit: int = OPEN_PAGES_SHOWN) -> tuple[list[PageRow], list[PageRow]]:
    """The unresolved pages assigned to `viewer_id` and (when `others`) every unresolved
    page, each list newest first and at most `limit` long."""
    mine: list[PageRow] = []
    every: list[PageRow] = []
    found = session.execute(_OPEN_PAGES, {"viewer": viewer_id, "others": others,
                                          "shown": limit})
    for page_id, title, incident_id, severity, status, assignee_id, created_at, name, \
            is_mine in found:
        row = PageRow(page_id, title, incident_id, severity, status, assignee_id, created_at,
                      None if assignee_id is None else Assignee(name))
        (mine if is_mine else every).append(row)
    return mine, every


def open_pages(*, session: Session, user: User | None = None,
               limit: int = OPEN_PAGES_SHOWN) -> list[PageRow]:
    """Unresolved pages, newest first; only those assigned to `user` when given."""
    mine, every = open_page_lists(session=session, viewer_id=None if user is None else user.id,
                                  others=user is None, limit=limit)
    return mine if user is not None else every


def recent_pages(*, session: Session, limit: int = 20) -> list[Page]:
    """The newest pages in any state."""
    return list(session.scalars(select(Page).order_by(Page.id.desc()).limit(limit)).unique())


def time_to_ack(page: Page) -> timedelta | None:
    """How long the page waited for an ack (the MTTA sample), from its first notification."""
    if page.acked_at is None:
        return None
    return page.acked_at - page.due_at
