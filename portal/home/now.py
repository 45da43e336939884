"""What needs me now: the first screen of each role's home.

Each role gets the handful of things that ask for its attention: the on-call engineer
their open pages, firing alerts of their services, incidents they hold a role in,
silences ending today and their next shift; the developer their running and failed jobs,
approvals waiting on them and the freeze state of their services; the manager budgets at
risk with a forecast, approvals, open incidents and the MTTR trend; the tenant viewer
their status, SLA this month, open incidents and latest reports. Every list is bounded,
so the home costs the same few statements however busy Meridian is. The open incidents
and the jobs are each read in one statement per request (`open_incidents`, `home_jobs`)
and shared by every section and home panel that shows them; the firing alerts, silences
ending today and the MTTR trend share one more (`glance`). Rows are read as the columns
the home shows, into small immutable records, not as ORM entities.
"""
from __future__ import annotations

import functools
import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from cachetools import LRUCache
from sqlalchemy import (
    Boolean,
    DateTime,
    Integer,
    Select,
    String,
    and_,
    bindparam,
    func,
    or_,
    select,
    text,
)
from sqlalchemy.orm import Session

from portal import request_memo
from portal.auth import audit
from portal.auth.models import User
from portal.catalog.models import Service
from portal.db import utcnow
from portal.incidents import metrics
from portal.incidents.models import ROLES, Incident, Postmortem
from portal.oncall import paging, schedule_cache
from portal.oncall import service as oncall
from portal.selfservice.models import Job
from portal.slo import present, samples, status_cache
from portal.slo import service as slo
from portal.statuspage import service as statuspage

LIMIT = 5
PANEL_LIMIT = 20     # open incidents on the incidents panel
NEXT_SHIFT_HORIZON = timedelta(days=28)
ACTIVE_JOBS = ("queued", "awaiting_approval", "running")
RECENT_FAILURES = timedelta(days=7)
AUDIT_LIMIT = 8      # recent audit entries on the admin's home


@dataclass
class Counted:
    """The first few items of a list and how many there are in all."""
    items: list = field(default_factory=list)
    total: int = 0


@dataclass(frozen=True)
class FiringAlert:
    """What the home shows of a firing alert."""
    fingerprint: str
    severity: str | None
    labels: dict
    service: str | None
    starts_at: datetime


@dataclass(frozen=True)
class EndingSilence:
    """What the home shows of a silence ending soon."""
    comment: str
    ends_at: datetime


@dataclass(frozen=True)
class TrendMonth:
    """MTTR of the incidents opened in one month, as incidents.metrics.by_month gives it."""
    key: str
    count: int
    mttr_min: float | None


@dataclass(frozen=True)
class Glance:
    """The home's small lists that no other page shares, from one statement: the on-call
    section's firing alerts and silences ending today, and the manager's MTTR trend."""
    alerts: Counted
    silences: list[EndingSilence]
    trend: list[TrendMonth]
    audit: list[audit.RecentEntry] | None = None
    pages: list[paging.PageRow] | None = None


# One round trip for three small lists (each was an ORM statement of its own). Each part
# keeps the conditions and order of the query it replaced (the firing alerts most severe
# and newest first, the silences by end, incidents.metrics.by_month's grouping); a part the
# viewer's roles do not show is switched off by its flag.
_GLANCE = text("""
SELECT
  (SELECT coalesce(json_agg(json_build_object(
              'fingerprint', a.fingerprint, 'severity', a.severity, 'labels', a.labels,
              'service', a.service, 'starts_at', a.starts_at, 'total', a.total) ORDER BY a.pos),
          '[]')
   FROM (SELECT fingerprint, severity, labels, service, starts_at,
                count(*) OVER () AS total,
                row_number() OVER (ORDER BY CASE WHEN severity IN ('critical', 'page') THEN 0
                                                 WHEN severity = 'warning' THEN 1 ELSE 2 END,
                                            starts_at DESC) AS pos
         FROM oncall_alerts
         WHERE :alerts AND status = 'firing'
           AND (NOT :scoped OR service IN :slugs)) AS a
   WHERE a.pos <= :limit) AS alerts,
  (SELECT coalesce(json_agg(json_build_object('comment', s.comment, 'ends_at', s.ends_at)
                            ORDER BY s.ends_at, s.pos), '[]')
   FROM (SELECT comment, ends_at, row_number() OVER (ORDER BY ends_at) AS pos
         FROM oncall_silence_ledger
         WHERE :silences AND expired_at IS NULL AND ends_at > :now
           AND ends_at <= :silences_until
         ORDER BY ends_at LIMIT :limit) AS s) AS silences,
  (SELECT coalesce(json_agg(json_build_object('key', m.key, 'count', m.n, 'mttr', m.mttr)
                            ORDER BY m.key), '[]')
   FROM (SELECT to_char(date_trunc('month', opened_at), 'YYYY-MM') AS key, count(*) AS n,
                avg(CAST(extract(epoch FROM resolved_at - opened_at) AS double precision)
                    / 60.0) AS mttr
         FROM incidents_incidents
         WHERE :trend AND opened_at >= :trend_since
         GROUP BY 1) AS m) AS trend,
  (SELECT coalesce(json_agg(json_build_object(
              'id', l.id, 'at', l.at, 'actor_email', l.actor_email, 'action', l.action,
              'details', l.details, 'target_type', l.target_type, 'target_id', l.target_id,
              'outcome', l.outcome, 'ip', l.ip) ORDER BY l.id DESC), '[]')
   FROM (SELECT id, at, actor_email, action, details, target_type, target_id, outcome, ip
         FROM audit_log WHERE :audit ORDER BY id DESC LIMIT :audit_limit) AS l) AS audit,
  (SELECT coalesce(json_agg(json_build_object(
              'id', p.id, 'title', p.title, 'incident_id', p.incident_id,
              'severity', p.severity, 'status', p.status, 'assignee_id', p.assignee_id,
              'created_at', p.created_at, 'name', u.name) ORDER BY p.id DESC), '[]')
   FROM (SELECT id, title, incident_id, severity, status, assignee_id, created_at
         FROM oncall_pages
         WHERE :pages AND status <> 'resolved' AND assignee_id = :viewer
         ORDER BY id DESC LIMIT :limit) AS p
   LEFT JOIN users u ON u.id = p.assignee_id) AS pages,
  CASE WHEN :schedules THEN """ + schedule_cache.VERSION_SQL + """ END AS schedules_version,
  CASE WHEN :schedules THEN txid_current_if_assigned() END AS schedules_writer
""").bindparams(bindparam("slugs", expanding=True))


def _instant(value: str) -> datetime:
    return datetime.fromisoformat(value)


def glance(*, session: Session, user: User, now: datetime,
           service_slugs: list[str] | None = None, any_scope: bool = False) -> Glance:
    """The firing alerts (of `service_slugs` when given), silences ending within a day and
    the MTTR trend, read once per request for every section of the user's roles that
    shows them; `any_scope` takes what was read for any alert scope (the manager's section
    shows no alerts)."""
    memo = request_memo.memo("home.glance")
    found = memo.get(user.id)
    if found is not None and (any_scope or found[0] == service_slugs):
        return found[1]
    read = _read_glance(session, user, service_slugs, now)
    memo[user.id] = (service_slugs, read)
    return read


def _read_glance(session: Session, user: User, service_slugs: list[str] | None,
                 now: datetime) -> Glance:
    held = set(user.roles)
    # The on-call section also shows for rostered people without the role; reading its two
    # small lists for every internal viewer is cheaper than a second round trip.
    oncall_part = bool(user.is_internal or "oncall" in held)
    trend_part = bool(held & {"manager", "admin"})
    # The admin's recent audit entries and the schedules' version (who is on call and the
    # next shift need it) ride along: each would be a round trip of its own.
    audit_part = "admin" in held
    row = session.execute(_GLANCE, {
        "alerts": oncall_part, "silences": oncall_part, "trend": trend_part,
        "audit": audit_part, "audit_limit": AUDIT_LIMIT, "schedules": oncall_part,
        "pages": oncall_part, "viewer": user.id,
        "scoped": service_slugs is not None, "slugs": list(service_slugs or [""]),
        "limit": LIMIT, "now": now, "silences_until": now + timedelta(hours=24),
        "trend_since": metrics.since_months(6, now)}).one()
    alerts = [FiringAlert(a["fingerprint"], a["severity"], a["labels"], a["service"],
                          _instant(a["starts_at"])) for a in row.alerts]
    if oncall_part:
        schedule_cache.seed_version(session, row.schedules_version, row.schedules_writer)
    return Glance(
        audit=[audit.RecentEntry.from_json(e) for e in row.audit] if audit_part else None,
        pages=[_page_row(p) for p in row.pages] if oncall_part else None,
        alerts=Counted(alerts, row.alerts[0]["total"] if row.alerts else 0),
        silences=[EndingSilence(s["comment"], _instant(s["ends_at"])) for s in row.silences],
        trend=[TrendMonth(m["key"], m["count"], None if m["mttr"] is None else float(m["mttr"]))
               for m in row.trend])


def _page_row(p: dict) -> paging.PageRow:
    # As paging.open_pages makes it of the viewer's open pages.
    return paging.PageRow(p["id"], p["title"], p["incident_id"], p["severity"], p["status"],
                          p["assignee_id"], _instant(p["created_at"]),
                          None if p["assignee_id"] is None else paging.Assignee(p["name"]))


@dataclass(frozen=True)
class HomeIncident:
    """What the home and its incidents panel show of an incident (read as columns: the
    Incident rows with their relationships are not needed)."""
    id: int
    title: str
    severity: str
    status: str
    opened_at: datetime
    roles: dict | None


@dataclass(frozen=True)
class HomePostmortem:
    """An overdue postmortem as the incidents panel shows it, with its incident."""
    id: int
    incident_id: int
    due_at: datetime
    incident: HomeIncident


@dataclass(frozen=True)
class OpenIncidents:
    """What the home shows of incidents, from one statement: the newest open ones (the
    incidents panel and the manager's list), how many are open, those the viewer holds a
    role in, and for a manager the overdue postmortems."""
    newest: list[HomeIncident]
    total: int
    with_role: list[tuple[HomeIncident, list[str]]]
    overdue_postmortems: list[HomePostmortem]


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
    return (select(Incident.id, Incident.title, Incident.severity, Incident.status,
                   Incident.opened_at, Incident.roles, c.total, c.pos, c.held,
                   Postmortem.id.label("pm_id"), Postmortem.due_at.label("pm_due_at"))
            .outerjoin(ranked, c.id == Incident.id).outerjoin(Postmortem, overdue)
            .where(wanted).order_by(c.pos.nulls_last(), Incident.id))


def _read_open_incidents(session: Session, user: User) -> OpenIncidents:
    rows = session.execute(_open_incidents_statement(), {
        "email": user.email, "now": utcnow(), "manager": user.has_role("manager")}).all()
    incidents = {r.id: HomeIncident(r.id, r.title, r.severity, r.status, r.opened_at, r.roles)
                 for r in rows}
    open_rows = [r for r in rows if r.pos is not None]
    # The panel shows each postmortem's incident: the one of its row, not a reload.
    overdue_postmortems = [HomePostmortem(r.pm_id, r.id, r.pm_due_at, incidents[r.id])
                           for r in rows if r.pm_id is not None]
    return OpenIncidents(
        newest=[incidents[r.id] for r in open_rows if r.pos <= PANEL_LIMIT],
        total=open_rows[0].total if open_rows else 0,
        with_role=[(incidents[r.id], [ROLES[role] for role, who in (r.roles or {}).items()
                                      if who == user.email])
                   for r in open_rows if r.held][:LIMIT],
        overdue_postmortems=sorted(overdue_postmortems, key=lambda pm: (pm.due_at, pm.id)))


def incidents_with_role(*, session: Session, user: User
                        ) -> list[tuple[HomeIncident, list[str]]]:
    """Open incidents in which `user` holds a role (commander, comms, scribe, ...)."""
    return open_incidents(session=session, user=user).with_role


# The next shift of a person, per schedules' version and minute (the home asks on each view).
_next_shifts: LRUCache[tuple, oncall.UpcomingShift | None] = LRUCache(maxsize=256)
_next_shifts_lock = threading.Lock()


def next_shift(*, session: Session, user: User, now: datetime) -> oncall.UpcomingShift | None:
    """The user's current or next shift over every schedule they are on, overrides included
    (one statement while the schedules have not changed; see oncall.schedule_cache)."""
    version = schedule_cache.shared_version(session)
    key = None if version is None else (version, user.id, now.replace(second=0, microsecond=0))
    if key is not None:
        with _next_shifts_lock:
            if key in _next_shifts:
                return _next_shifts[key]
    found = oncall.next_shift_of(session=session, user_id=user.id, start=now,
                                 end=now + NEXT_SHIFT_HORIZON)
    if key is not None:
        with _next_shifts_lock:
            _next_shifts[key] = found
    return found


def for_oncall(*, session: Session, user: User, my_services: list[Service],
               now: datetime | None = None) -> dict:
    now = now or utcnow()
    slugs = [s.slug for s in my_services]
    seen = glance(session=session, user=user, now=now, service_slugs=slugs or None)
    # The glance read the viewer's open pages along.
    pages = seen.pages if seen.pages is not None else paging.open_pages(
        session=session, user=user, limit=LIMIT)
    return {"pages": pages,
            "alerts": seen.alerts,
            "alerts_scope": "your teams' services" if slugs else "all services",
            "incidents": incidents_with_role(session=session, user=user),
            "silences": seen.silences,
            "shift": next_shift(session=session, user=user, now=now)}


def _budget_rows(session: Session, service_ids: list[int] | None,
                 every: bool = False) -> list[dict]:
    """The worst budget of each service (of `service_ids` when given), most at risk first.
    With `every`, the rows of every service are made once per request and the subset taken
    from them: a service's row depends on its own SLOs only, and the order is kept."""
    # The developer's and the manager's sections both show budgets: one check of the
    # SLO cache's validity per request is enough.
    memo = request_memo.memo("home.slo_status")
    if "current" not in memo:
        memo["current"] = status_cache.current(session=session)
    if every or service_ids is None:
        if "every" not in memo:
            memo["every"] = _every_row(session, memo["current"])
        rows = memo["every"]
        return rows if service_ids is None else [
            r for r in rows if r["slo"].service_id in service_ids]
    return _rows_of(session, memo["current"], service_ids)


# Every service's budget row is made of the statuses status_cache.evaluate keeps per
# snapshot, samples' version and minute: the rows are kept on the same key (the snapshot
# is held with them, so that a reused id cannot match another snapshot).
_every_rows: LRUCache[tuple, tuple[object, list[dict]]] = LRUCache(maxsize=8)
_every_rows_lock = threading.Lock()


def _every_row(session: Session, current: status_cache.Current) -> list[dict]:
    key = (id(current.snapshot), current.samples_version, samples.floor_minute(utcnow()))
    with _every_rows_lock:
        kept = _every_rows.get(key)
    if kept is not None and kept[0] is current.snapshot:
        return list(kept[1])
    rows = _rows_of(session, current, None, now=key[2])
    with _every_rows_lock:
        _every_rows[key] = (current.snapshot, rows)
    return list(rows)


def _rows_of(session: Session, current: status_cache.Current,
             service_ids: list[int] | None, now: datetime | None = None) -> list[dict]:
    slos = current.snapshot.slos
    if service_ids is not None:
        slos = [s for s in slos if s.service_id in service_ids]
    by_service: dict[int, list[slo.SloStatus]] = {}
    for status in status_cache.evaluate(session=session, current=current, slos=slos,
                                        now=now):
        by_service.setdefault(status.slo.service_id, []).append(status)
    rows = []
    for statuses in by_service.values():
        worst = min(statuses, key=lambda s: (-slo.POLICY_STATES.index(s.policy),
                                             s.budget.remaining))
        rows.append({"service": worst.slo.service, "state": worst.policy, "slo": worst.slo,
                     "remaining": worst.budget.remaining, "forecast": present.forecast(worst)})
    return sorted(rows, key=lambda r: (-slo.POLICY_STATES.index(r["state"]), r["remaining"]))


@dataclass(frozen=True)
class Requester:
    email: str


@dataclass(frozen=True)
class HomeJob:
    """What the home and its self-service panel show of a job: its link, status, time and
    requester (read as columns: the Job rows with their relationships are not needed)."""
    id: uuid.UUID
    template: str
    action: str
    status: str
    created_at: datetime
    planned_at: datetime | None
    requested_by: Requester | None

    @property
    def label(self) -> str:
        return str(self.id)[:8]


@dataclass(frozen=True)
class HomeJobs:
    """The self-service jobs the home shows, from one statement: the user's newest, their
    running and recently failed ones, and the prod jobs waiting for their approval."""
    recent: list[HomeJob]
    active: list[HomeJob]
    approvals: list[HomeJob]


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
    return (select(Job.id, Job.template, Job.action, Job.status, Job.created_at,
                   Job.planned_at, User.email.label("requester"),
                   c.mine, c.active, c.approval, c.mine_pos, c.active_pos)
            .join(ranked, c.id == Job.id)
            .outerjoin(User, User.id == Job.requested_by_id)
            .where(or_(c.mine & (c.mine_pos <= LIMIT), c.active & (c.active_pos <= LIMIT),
                       c.approval)))


def _read_jobs(session: Session, user: User, now: datetime) -> HomeJobs:
    rows = session.execute(_jobs_statement(), {
        "user_id": user.id, "failed_since": now - RECENT_FAILURES}).all()
    jobs = {r.id: HomeJob(r.id, r.template, r.action, r.status, r.created_at, r.planned_at,
                          None if r.requester is None else Requester(r.requester))
            for r in rows}
    return HomeJobs(
        recent=[jobs[r.id] for r in sorted((r for r in rows if r.mine and r.mine_pos <= LIMIT),
                                           key=lambda r: r.mine_pos)],
        active=[jobs[r.id] for r in sorted((r for r in rows
                                            if r.active and r.active_pos <= LIMIT),
                                           key=lambda r: r.active_pos)],
        approvals=[jobs[r.id] for r in sorted((r for r in rows if r.approval),
                                              key=lambda r: (r.planned_at is None,
                                                             r.planned_at or now, r.id))])


def for_developer(*, session: Session, user: User, my_services: list[Service],
                  now: datetime | None = None) -> dict:
    jobs = home_jobs(session=session, user=user, now=now)
    mine = my_services
    ids = [s.id for s in mine] or [s.id for s in session.scalars(
        select(Service).where(Service.tier == 1).order_by(Service.name).limit(LIMIT))]
    return {"jobs": jobs.active,
            "approvals": jobs.approvals[:LIMIT],
            # The manager's section, when shown, takes its rows from the same evaluation.
            "freeze": _budget_rows(session, ids,
                                   every=bool({"manager", "admin"} & set(user.roles)))[:LIMIT],
            "freeze_scope": "your teams' services" if mine else "tier-1 services"}


def for_manager(*, session: Session, user: User, now: datetime | None = None,
                my_services: list[Service] | None = None) -> dict:
    """With `my_services` (those the on-call section scopes its alerts to), the small lists
    both sections show are read for that scope at once."""
    now = now or utcnow()
    shared = open_incidents(session=session, user=user)
    opened = Counted(shared.newest[:LIMIT], shared.total)
    slugs = None if my_services is None else [s.slug for s in my_services] or None
    trend = glance(session=session, user=user, now=now, service_slugs=slugs,
                   any_scope=my_services is None).trend
    return {"budgets": [r for r in _budget_rows(session, None) if r["state"] != "healthy"][:LIMIT],
            "approvals": home_jobs(session=session, user=user, now=now).approvals[:LIMIT],
            "incidents": opened,
            "mttr": [(row.key, row.mttr_min, row.count) for row in trend]}


def for_tenant(*, session: Session, tenant, now: datetime | None = None) -> dict:
    """The tenant's status as its status page shows it, and its open incidents."""
    status = statuspage.page(session=session, tenant=tenant, now=now)
    return {"status": status, "incidents": status.open_incidents[:LIMIT],
            "degraded": [c for c in status.components if c.state != "operational"][:LIMIT]}


def recent_audit(*, session: Session, user: User) -> list:
    """The admin's latest audit entries: those the glance read along (see `_read_glance`),
    else read now."""
    found = request_memo.memo("home.glance").get(user.id)
    if found is not None and found[1].audit is not None:
        return found[1].audit
    return audit.recent(session=session, limit=AUDIT_LIMIT)
