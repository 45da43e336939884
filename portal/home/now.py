"""What needs me now: the first screen of each role's home.

Each role gets the handful of things that ask for its attention: the on-call engineer
their open pages, firing alerts of their services, incidents they hold a role in,
silences ending today and their next shift; the developer their running and failed jobs,
approvals waiting on them and the freeze state of their services; the manager budgets at
risk with a forecast, approvals, open incidents and the MTTR trend; the tenant viewer
their status, SLA this month, open incidents and latest reports. Every list is bounded,
so the home costs the same few statements however busy Meridian is. The open incidents
and the jobs are each read in one statement per request (`open_incidents`, `home_jobs`)
and shared by every section and home panel that shows them.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import (
    Boolean,
    DateTime,
    Integer,
    Select,
    String,
    and_,
    bindparam,
    case,
    func,
    or_,
    select,
)
from sqlalchemy.orm import Session, joinedload, lazyload
from sqlalchemy.orm.attributes import set_committed_value

from portal import request_memo
from portal.auth.models import User
from portal.catalog.models import Service
from portal.db import utcnow
from portal.incidents import metrics
from portal.incidents.models import ROLES, Incident, Postmortem
from portal.incidents.service import WITHOUT_LINKS
from portal.oncall import paging
from portal.oncall import service as oncall
from portal.oncall.models import ReceivedAlert
from portal.oncall.silence_ledger import LedgerSilence
from portal.selfservice.models import Job
from portal.slo import present, status_cache
from portal.slo import service as slo
from portal.statuspage import service as statuspage

LIMIT = 5
PANEL_LIMIT = 20     # open incidents on the incidents panel
NEXT_SHIFT_HORIZON = timedelta(days=28)
ACTIVE_JOBS = ("queued", "awaiting_approval", "running")
RECENT_FAILURES = timedelta(days=7)


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


@dataclass(frozen=True)
class OpenIncidents:
    """What the home shows of incidents, from one statement: the newest open ones (the
    incidents panel and the manager's list), how many are open, those the viewer holds a
    role in, and for a manager the overdue postmortems."""
    newest: list[Incident]
    total: int
    with_role: list[tuple[Incident, list[str]]]
    overdue_postmortems: list[Postmortem]


def open_incidents(*, session: Session, user: User) -> OpenIncidents:
    """The incidents every home section needs, read once per request (several sections and
    the incidents panel share them)."""
    memo = request_memo.memo("home.open_incidents")
    if user.id not in memo:
        memo[user.id] = _read_open_incidents(session, user)
    return memo[user.id]


@functools.cache
def _open_incidents_statement() -> Select:
    """One pass over the open incidents numbers them newest first, overall and among those
    the viewer (:email) holds a role in; the rows kept are the first few of either list,
    and (for a manager, :manager) the incidents whose required postmortem is overdue, as
    postmortems.overdue tells them, with that postmortem. Built once: only the parameters
    change between requests."""
    email = bindparam("email", type_=String)
    held = func.coalesce(or_(*(Incident.roles[role].astext == email for role in ROLES)),
                         False)
    newest_first = (Incident.opened_at.desc(), Incident.id.desc())
    ranked = (select(Incident.id, func.count().over().label("total"),
                     func.row_number().over(order_by=newest_first).label("pos"),
                     held.label("held"),
                     func.row_number().over(partition_by=held, order_by=newest_first)
                     .label("held_pos"))
              .where(Incident.status != "resolved", Incident.resolved_at.is_(None))
              .subquery())
    c = ranked.c
    overdue = and_(Postmortem.incident_id == Incident.id, Postmortem.required,
                   Postmortem.completed_at.is_(None),
                   Postmortem.due_at < bindparam("now", type_=DateTime(timezone=True)),
                   bindparam("manager", type_=Boolean))
    wanted = or_(c.pos <= PANEL_LIMIT, c.held & (c.held_pos <= LIMIT),
                 Postmortem.id.is_not(None))
    return (select(Incident, c.total, c.pos, c.held, Postmortem)
            .outerjoin(ranked, c.id == Incident.id).outerjoin(Postmortem, overdue)
            .where(wanted).options(*WITHOUT_LINKS)
            .order_by(c.pos.nulls_last(), Incident.id))


def _read_open_incidents(session: Session, user: User) -> OpenIncidents:
    rows = session.execute(_open_incidents_statement(), {
        "email": user.email, "now": utcnow(), "manager": user.has_role("manager")}).all()
    open_rows = [r for r in rows if r.pos is not None]
    overdue_postmortems = []
    for r in rows:
        if r.Postmortem is not None:
            # The panel shows each postmortem's incident: the one of its row, not a reload.
            set_committed_value(r.Postmortem, "incident", r.Incident)
            overdue_postmortems.append(r.Postmortem)
    return OpenIncidents(
        newest=[r.Incident for r in open_rows if r.pos <= PANEL_LIMIT],
        total=open_rows[0].total if open_rows else 0,
        with_role=[(r.Incident, [ROLES[role] for role, who in (r.Incident.roles or {}).items()
                                 if who == user.email])
                   for r in open_rows if r.held][:LIMIT],
        overdue_postmortems=sorted(overdue_postmortems, key=lambda pm: (pm.due_at, pm.id)))


def incidents_with_role(*, session: Session, user: User) -> list[tuple[Incident, list[str]]]:
    """Open incidents in which `user` holds a role (commander, comms, scribe, ...)."""
    return open_incidents(session=session, user=user).with_role


def silences_ending_today(*, session: Session, now: datetime) -> list[LedgerSilence]:
    """Portal-made silences still in force that end within the next 24 hours."""
    return list(session.scalars(select(LedgerSilence).where(
        LedgerSilence.expired_at.is_(None), LedgerSilence.ends_at > now,
        LedgerSilence.ends_at <= now + timedelta(hours=24))
        .order_by(LedgerSilence.ends_at).limit(LIMIT)))


def next_shift(*, session: Session, user: User, now: datetime) -> oncall.UpcomingShift | None:
    """The user's current or next shift over every schedule they are on, overrides included
    (one statement while the schedules have not changed; see oncall.schedule_cache)."""
    return oncall.next_shift_of(session=session, user_id=user.id, start=now,
                                end=now + NEXT_SHIFT_HORIZON)


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
    # The developer's and the manager's sections both show budgets: one check of the
    # SLO cache's validity per request is enough.
    memo = request_memo.memo("home.slo_status")
    if "current" not in memo:
        memo["current"] = status_cache.current(session=session)
    current = memo["current"]
    slos = current.snapshot.slos
    if service_ids is not None:
        slos = [s for s in slos if s.service_id in service_ids]
    by_service: dict[int, list[slo.SloStatus]] = {}
    for status in status_cache.evaluate(session=session, current=current, slos=slos):
        by_service.setdefault(status.slo.service_id, []).append(status)
    rows = []
    for statuses in by_service.values():
        worst = min(statuses, key=lambda s: (-slo.POLICY_STATES.index(s.policy),
                                             s.budget.remaining))
        rows.append({"service": worst.slo.service, "state": worst.policy, "slo": worst.slo,
                     "remaining": worst.budget.remaining, "forecast": present.forecast(worst)})
    return sorted(rows, key=lambda r: (-slo.POLICY_STATES.index(r["state"]), r["remaining"]))


# The home shows a job's link, status, time and requester: the requester's row is joined,
# not the environment, service and tenant rows every Job load joins by default.
HOME_JOB_LOADS = (lazyload(Job.environment), lazyload(Job.service),
                  joinedload(Job.requested_by).lazyload(User.tenant))


@dataclass(frozen=True)
class HomeJobs:
    """The self-service jobs the home shows, from one statement: the user's newest, their
    running and recently failed ones, and the prod jobs waiting for their approval."""
    recent: list[Job]
    active: list[Job]
    approvals: list[Job]


def home_jobs(*, session: Session, user: User, now: datetime | None = None) -> HomeJobs:
    """The jobs of every home section and the self-service panel, read once per request."""
    memo = request_memo.memo("home.jobs")
    if user.id not in memo:
        memo[user.id] = _read_jobs(session, user, now or utcnow())
    return memo[user.id]


@functools.cache
def _jobs_statement() -> Select:
    """The conditions of selfservice's jobs_of and pending_approvals and of "my running and
    failed jobs" for the user :user_id; each of their jobs is numbered newest first within
    the lists it belongs to, and only the first few of each list are read. Built once."""
    user_id = bindparam("user_id", type_=Integer)
    mine = Job.requested_by_id == user_id
    active = mine & or_(Job.status.in_(ACTIVE_JOBS),
                        (Job.status == "failed")
                        & (Job.created_at >= bindparam("failed_since",
                                                       type_=DateTime(timezone=True))))
    approval = ((Job.status == "awaiting_approval") & (Job.gate == "approval")
                & (Job.requested_by_id != user_id))
    newest_first = (Job.created_at.desc(), Job.id)
    ranked = (select(Job.id, mine.label("mine"), active.label("active"),
                     approval.label("approval"),
                     func.row_number().over(partition_by=mine, order_by=newest_first)
                     .label("mine_pos"),
                     func.row_number().over(partition_by=active, order_by=newest_first)
                     .label("active_pos"))
              .where(or_(mine, approval)).subquery())
    c = ranked.c
    return (select(Job, c.mine, c.active, c.approval, c.mine_pos, c.active_pos)
            .join(ranked, c.id == Job.id)
            .where(or_(c.mine & (c.mine_pos <= LIMIT), c.active & (c.active_pos <= LIMIT),
                       c.approval))
            .options(*HOME_JOB_LOADS))


def _read_jobs(session: Session, user: User, now: datetime) -> HomeJobs:
    rows = session.execute(_jobs_statement(), {
        "user_id": user.id, "failed_since": now - RECENT_FAILURES}).all()
    return HomeJobs(
        recent=[r[0] for r in sorted((r for r in rows if r.mine and r.mine_pos <= LIMIT),
                                     key=lambda r: r.mine_pos)],
        active=[r[0] for r in sorted((r for r in rows if r.active and r.active_pos <= LIMIT),
                                     key=lambda r: r.active_pos)],
        approvals=[r[0] for r in sorted((r for r in rows if r.approval),
                                        key=lambda r: (r[0].planned_at is None,
                                                       r[0].planned_at or now, r[0].id))])


def for_developer(*, session: Session, user: User, my_services: list[Service],
                  now: datetime | None = None) -> dict:
    jobs = home_jobs(session=session, user=user, now=now)
    mine = my_services
    ids = [s.id for s in mine] or [s.id for s in session.scalars(
        select(Service).where(Service.tier == 1).order_by(Service.name).limit(LIMIT))]
    return {"jobs": jobs.active,
            "approvals": jobs.approvals[:LIMIT],
            "freeze": _budget_rows(session, ids)[:LIMIT],
            "freeze_scope": "your teams' services" if mine else "tier-1 services"}


def for_manager(*, session: Session, user: User, now: datetime | None = None) -> dict:
    now = now or utcnow()
    shared = open_incidents(session=session, user=user)
    opened = Counted(shared.newest[:LIMIT], shared.total)
    trend = metrics.by_month(session=session, since=metrics.since_months(6, now))
    return {"budgets": [r for r in _budget_rows(session, None) if r["state"] != "healthy"][:LIMIT],
            "approvals": home_jobs(session=session, user=user, now=now).approvals[:LIMIT],
            "incidents": opened,
            "mttr": [(row.key, row.mttr_min, row.count) for row in trend]}


def for_tenant(*, session: Session, tenant, now: datetime | None = None) -> dict:
    """The tenant's status as its status page shows it, and its open incidents."""
    status = statuspage.page(session=session, tenant=tenant, now=now)
    return {"status": status, "incidents": status.open_incidents[:LIMIT],
            "degraded": [c for c in status.components if c.state != "operational"][:LIMIT]}
