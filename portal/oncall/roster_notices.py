"""When a person is deprovisioned, their future shifts become a notice on each schedule.

The notice lists the shifts (rotation and overrides, the next twelve weeks) that now have
nobody behind them, stays on the schedule page until a manager marks it handled, and is
mailed once to the managers of the team that owns the schedule (its members, from the
identity provider, who hold the manager role), or to every manager when that team has
none, through the portal's SMTP relay by the on-call beat tick. Rows are claimed with
SKIP LOCKED, so two workers never send one twice.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.auth import oidc_accounts
from portal.auth.models import User
from portal.db import utcnow
from portal.integrations import smtp
from portal.oncall import service
from portal.oncall.models import LAYERS, Schedule
from portal.oncall.roster_notice_models import RosterNotice

HORIZON = timedelta(weeks=12)


def future_shifts(*, session: Session, schedule: Schedule, user_id: int,
                  now: datetime) -> list[dict]:
    """The person's shifts of `schedule` from now to the horizon, soonest first."""
    found = []
    for layer in LAYERS:
        for shift in service.layer_timeline(session=session, schedule=schedule, layer=layer,
                                            start=now, end=now + HORIZON):
            if shift.who is not None and shift.who.id == user_id:
                found.append({"layer": layer, "starts_at": shift.starts_at.isoformat(),
                              "ends_at": shift.ends_at.isoformat(), "source": shift.source})
    return sorted(found, key=lambda s: s["starts_at"])


def managers(*, session: Session) -> list[User]:
    """Active people who may edit schedules (managers; admins hold every role)."""
    people = session.scalars(select(User).where(User.is_active.is_(True)).order_by(User.id))
    return [u for u in people if u.has_role("manager")]


def recipients(*, session: Session, schedule: Schedule, leaver_id: int,
               everyone: list[User]) -> list[str]:
    """The owning team's managers, else `everyone` (all managers); never the leaver."""
    owners = [] if schedule.team is None else [
        u for u in oidc_accounts.team_members(session=session, team_slug=schedule.team.slug)
        if u.has_role("manager") and u.id != leaver_id]
    return [u.email for u in (owners or everyone) if u.id != leaver_id]


def _message(schedule: Schedule, name: str, email: str, shifts: list[dict],
             link: str) -> tuple[str, str]:
    subject = f"On-call gap: {name} left, {len(shifts)} shift(s) of {schedule.name} uncovered"
    lines = [f"- {s['layer']}: {s['starts_at'][:16]} to {s['ends_at'][:16]} UTC" for s in shifts]
    body = (f"{name} <{email}> no longer has a portal account. These shifts of "
            f"{schedule.name} are theirs:\n\n" + "\n".join(lines) +
            f"\n\nReassign them (an override, or edit the rotation): {link}\n")
    return subject, body


def flag(*, session: Session, user_id: int, email: str, name: str, link_base: str,
         now: datetime | None = None) -> list[RosterNotice]:
    """Open (or refresh) a notice on each schedule where the person still has shifts."""
    now = now or utcnow()
    everyone = managers(session=session)
    notices = []
    for schedule in service.list_schedules(session=session):
        shifts = future_shifts(session=session, schedule=schedule, user_id=user_id, now=now)
        if not shifts:
            continue
        subject, body = _message(schedule, name, email, shifts,
                                 f"{link_base}/oncall/schedules/{schedule.slug}")
        to = recipients(session=session, schedule=schedule, leaver_id=user_id,
                        everyone=everyone)
        notice = session.scalar(select(RosterNotice).where(
            RosterNotice.schedule_id == schedule.id, RosterNotice.person_email == email,
            RosterNotice.resolved_at.is_(None)).with_for_update())
        if notice is None:
            notice = RosterNotice(schedule_id=schedule.id, person_email=email, attempts=0)
            session.add(notice)
        notice.person_id, notice.person_name, notice.shifts = user_id, name[:120], shifts
        notice.delivery = "pending" if to else "failed"
        notice.last_error = None if to else "no active manager to tell"
        notice.payload = {"to": to, "subject": subject, "text": body}
        notices.append(notice)
    session.flush()
    return notices


def open_for(*, session: Session, schedule: Schedule) -> list[RosterNotice]:
    """The notices of a schedule nobody has handled yet, oldest first."""
    return list(session.scalars(select(RosterNotice).where(
        RosterNotice.schedule_id == schedule.id, RosterNotice.resolved_at.is_(None))
        .order_by(RosterNotice.id)))


def resolve(*, session: Session, schedule: Schedule, notice_id: int, by: str) -> RosterNotice:
    """Mark a notice handled; raises LookupError when it is not this schedule's open one."""
    notice = session.get(RosterNotice, notice_id)
    if notice is None or notice.schedule_id != schedule.id or notice.resolved_at is not None:
        raise LookupError(notice_id)
    notice.resolved_at, notice.resolved_by = utcnow(), by
    session.flush()
    return notice


def deliver(*, session: Session, relay: smtp.Relay, max_attempts: int, limit: int = 50) -> int:
    """Mail the pending notices to their recipients; returns how many were tried."""
    pending = list(session.scalars(
        select(RosterNotice).where(RosterNotice.delivery == "pending")
        .order_by(RosterNotice.id).limit(limit).with_for_update(skip_locked=True)))
    for notice in pending:
        notice.attempts += 1
        try:
            for to in notice.payload["to"]:
                smtp.send(smtp.message(relay=relay, to=to, subject=notice.payload["subject"],
                                       body=notice.payload["text"]), relay=relay)
        except smtp.MailUnavailable as exc:
            notice.last_error = str(exc)[:500]
            if notice.attempts >= max_attempts:
                notice.delivery = "failed"
            continue
        notice.delivery, notice.last_error = "sent", None
    session.flush()
    return len(pending)
