"""What needs me now: the first screen of each role's home.

Each role gets the handful of things that ask for its attention: the on-call engineer
their open pages, firing alerts of their services, incidents they hold a role in,
silences ending today and their next shift; the developer their running and failed jobs,
approvals waiting on them and the freeze state of their services; the manager budgets at
risk with a forecast, approvals, open incidents and the MTTR trend; the tenant viewer
their status, SLA this month, open incidents and latest reports. Every list is bounded,
so the home costs the same few statements however busy Meridian is.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import Session

from portal.auth.models import User
from portal.catalog.models import Service
from portal.db import utcnow
from portal.incidents import metrics
from portal.incidents.models import ROLES, Incident
from portal.incidents.service import WITHOUT_LINKS
from portal.oncall import paging
from portal.oncall import service as oncall
from portal.oncall.models import LayerMember, ReceivedAlert, Schedule
from portal.oncall.rotation_models import LayeredRotation, RotationMember
from portal.oncall.silence_ledger import LedgerSilence
from portal.selfservice import service as selfservice
from portal.selfservice.models import Job
from portal.slo import present, specs
from portal.slo import service as slo
from portal.statuspage import service as statuspage

LIMIT = 5
NEXT_SHIFT_HORIZON = timedelta(days=28)
ACTIVE_JOBS = ("queued", "awaiting_approval", "running")
RECENT_FAILURES = timedelta(days=7)


@dataclass(frozen=True)
class NextShift:
    schedule: Schedule
    layer: str
    starts_at: datetime
    ends_at: datetime

    @property
    def now(self) -> bool:
        return self.starts_at <= utcnow() < self.ends_at


@dataclass
class Counted:
    """The first few items of a list and how many there are in all."""
    items: list = field(default_factory=list)
    total: int = 0


def firing_alerts(*, session: Session, service_slugs: list[str] | None) -> Counted:
    """Firing alerts, of `service_slugs` when given, most severe and newest first; the
    total comes with the rows (a window count), so this is one statement."""
    where = [ReceivedAlert.status == "firing"]
    if service_slugs is not None:
        where.append(ReceivedAlert.service.in_(service_slugs))
    severe = case((ReceivedAlert.severity.in_(("critical", "page")), 0),
                  (ReceivedAlert.severity == "warning", 1), else_=2)
    rows = session.execute(select(ReceivedAlert, func.count().over()).where(*where)
                           .order_by(severe, ReceivedAlert.starts_at.desc()).limit(LIMIT)).all()
    return Counted([alert for alert, _ in rows], rows[0][1] if rows else 0)


def incidents_with_role(*, session: Session, user: User) -> list[tuple[Incident, list[str]]]:
    """Open incidents in which `user` holds a role (commander, comms, scribe, ...)."""
    rows = session.scalars(select(Incident).where(
        Incident.resolved_at.is_(None),
        or_(*(Incident.roles[role].astext == user.email for role in ROLES)))
        .options(*WITHOUT_LINKS).order_by(Incident.opened_at.desc()).limit(LIMIT))
    return [(i, [ROLES[r] for r, who in (i.roles or {}).items() if who == user.email])
            for i in rows]


def silences_ending_today(*, session: Session, now: datetime) -> list[LedgerSilence]:
    """Portal-made silences still in force that end within the next 24 hours."""
    return list(session.scalars(select(LedgerSilence).where(
        LedgerSilence.expired_at.is_(None), LedgerSilence.ends_at > now,
        LedgerSilence.ends_at <= now + timedelta(hours=24))
        .order_by(LedgerSilence.ends_at).limit(LIMIT)))


def next_shift(*, session: Session, user: User, now: datetime) -> NextShift | None:
    """The user's current or next shift over every schedule they are on, overrides included
    (four statements however many schedules: theirs, overrides, layered rotations)."""
    mine = or_(Schedule.id.in_(select(LayerMember.schedule_id)
                               .where(LayerMember.user_id == user.id)),
               Schedule.id.in_(select(LayeredRotation.schedule_id).join(RotationMember)
                               .where(RotationMember.user_id == user.id)))
    schedules = list(session.scalars(select(Schedule).where(mine).order_by(Schedule.id)))
    timelines = oncall.layer_timelines(session=session, schedules=schedules, start=now,
                                       end=now + NEXT_SHIFT_HORIZON)
    by_id = {s.id: s for s in schedules}
    best: NextShift | None = None
    for (schedule_id, layer), shifts in timelines.items():
        shift = next((sh for sh in shifts if sh.ends_at > now
                      and any(who.id == user.id for who in sh.everyone)), None)
        if shift is not None and (best is None or shift.starts_at < best.starts_at):
            best = NextShift(by_id[schedule_id], layer, shift.starts_at, shift.ends_at)
    return best


def for_oncall(*, session: Session, user: User, my_services: list[Service],
               now: datetime | None = None) -> dict:
    now = now or utcnow()
    slugs = [s.slug for s in my_services]
    return {"pages": paging.open_pages(session=session, user=user, limit=LIMIT),
            "alerts": firing_alerts(session=session, service_slugs=slugs or None),
            "alerts_scope": "your teams' services" if slugs else "all services",
            "incidents": incidents_with_role(session=session, user=user),
            "silences": silences_ending_today(session=session, now=now),
            "shift": next_shift(session=session, user=user, now=now)}


def _budget_rows(session: Session, service_ids: list[int] | None) -> list[dict]:
    slos = specs.list_slos(session=session)
    if service_ids is not None:
        slos = [s for s in slos if s.service_id in service_ids]
    by_service: dict[int, list[slo.SloStatus]] = {}
    for status in slo.evaluate(session=session, slos=slos):
        by_service.setdefault(status.slo.service_id, []).append(status)
    rows = []
    for statuses in by_service.values():
        worst = min(statuses, key=lambda s: (-slo.POLICY_STATES.index(s.policy),
                                             s.budget.remaining))
        rows.append({"service": worst.slo.service, "state": worst.policy, "slo": worst.slo,
                     "remaining": worst.budget.remaining, "forecast": present.forecast(worst)})
    return sorted(rows, key=lambda r: (-slo.POLICY_STATES.index(r["state"]), r["remaining"]))


def for_developer(*, session: Session, user: User, my_services: list[Service],
                  now: datetime | None = None) -> dict:
    now = now or utcnow()
    jobs = list(session.scalars(select(Job).where(
        Job.requested_by_id == user.id,
        or_(Job.status.in_(ACTIVE_JOBS),
            (Job.status == "failed") & (Job.created_at >= now - RECENT_FAILURES)))
        .order_by(Job.created_at.desc()).limit(LIMIT)))
    mine = my_services
    ids = [s.id for s in mine] or [s.id for s in session.scalars(
        select(Service).where(Service.tier == 1).order_by(Service.name).limit(LIMIT))]
    return {"jobs": jobs,
            "approvals": selfservice.pending_approvals(session=session, user=user)[:LIMIT],
            "freeze": _budget_rows(session, ids)[:LIMIT],
            "freeze_scope": "your teams' services" if mine else "tier-1 services"}


def for_manager(*, session: Session, user: User, now: datetime | None = None) -> dict:
    now = now or utcnow()
    rows = session.execute(select(Incident, func.count().over())
                           .where(Incident.resolved_at.is_(None)).options(*WITHOUT_LINKS)
                           .order_by(Incident.opened_at.desc()).limit(LIMIT)).all()
    opened = Counted([incident for incident, _ in rows], rows[0][1] if rows else 0)
    trend = metrics.by_month(session=session, since=metrics.since_months(6, now))
    return {"budgets": [r for r in _budget_rows(session, None) if r["state"] != "healthy"][:LIMIT],
            "approvals": selfservice.pending_approvals(session=session, user=user)[:LIMIT],
            "incidents": opened,
            "mttr": [(row.key, row.mttr_min, row.count) for row in trend]}


def for_tenant(*, session: Session, tenant, now: datetime | None = None) -> dict:
    """The tenant's status as its status page shows it, and its open incidents."""
    status = statuspage.page(session=session, tenant=tenant, now=now)
    return {"status": status, "incidents": status.open_incidents[:LIMIT],
            "degraded": [c for c in status.components if c.state != "operational"][:LIMIT]}
