"""Suspect changes of an incident: what changed on its services, and on everything they
depend on, from some hours before it opened until it was resolved (or now).

Deploys, rollbacks, Terraform applies and Ansible runs are self-service jobs; silence
changes come from the on-call silence ledger. The cost does not grow with history or with
the number of changes: one read of the dependency graph and one query of the jobs and the
silence changes together, each part bounded by the time window (indexed) and a LIMIT.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from types import SimpleNamespace
from typing import Any

from sqlalchemy import (
    DateTime,
    Integer,
    bindparam,
    func,
    literal_column,
    null,
    or_,
    select,
    union_all,
)
from sqlalchemy.orm import Session

from portal.auth.models import User
from portal.catalog import service as catalog
from portal.db import utcnow
from portal.incidents.models import Incident
from portal.integrations.alertmanager import Matcher
from portal.oncall import silences
from portal.oncall.silence_ledger import LedgerSilence
from portal.selfservice import job_templates
from portal.selfservice.models import Job

DEFAULT_HOURS = 6
MAX_HOURS = 72
LIMIT = 200
SERVICE_LABEL = "service"  # the alert label naming the catalog entry, as alerts carry it


@dataclass(frozen=True)
class Suspect:
    """One change that may have caused the incident."""
    at: datetime
    kind: str  # deploy | rollback | terraform | ansible | silence
    service_slug: str
    service_name: str
    who: str
    what: str
    outcome: str
    path: tuple[str, ...]  # affected service -> ... -> the changed entry
    job: Any = None  # the job's columns the panel reads, with its requester
    silence_id: str | None = None
    silence_undo: str | None = None  # expire | recreate: what undoes this silence change

    @property
    def on_dependency(self) -> bool:
        """True when the change hit something an affected service depends on."""
        return len(self.path) > 1

    @property
    def offers_rollback(self) -> bool:
        """Whether the row offers a rollback: a deploy that went out, or a Terraform apply
        or playbook run that finished (the request path still decides whether it may
        happen now)."""
        if self.job is None:
            return False
        if self.kind in ("terraform", "ansible"):
            return self.job.action != "destroy" and self.job.status in ("succeeded", "failed")
        return self.job.action == "deploy" and self.job.status == "succeeded"


@dataclass(frozen=True)
class Suspects:
    since: datetime
    until: datetime
    hours: int
    rows: list[Suspect]
    truncated: bool
    services: list[str]  # the incident's own catalog entries
    dependencies: int  # how many entries they depend on were searched too


def window(*, incident: Incident, hours: int, now: datetime | None = None
           ) -> tuple[datetime, datetime]:
    """From `hours` before the incident opened until it was resolved, or now."""
    return (incident.opened_at - timedelta(hours=hours),
            incident.resolved_at or now or utcnow())


def find(*, session: Session, incident: Incident, hours: int = DEFAULT_HOURS,
         now: datetime | None = None, limit: int = LIMIT) -> Suspects:
    """The changes on the incident's services and their dependencies in its window."""
    if not 1 <= hours <= MAX_HOURS:
        raise ValueError(f"Look back between 1 and {MAX_HOURS} hours.")
    now = now or utcnow()
    since, until = window(incident=incident, hours=hours, now=now)
    own = {s.slug for s in incident.services}
    reached = {r.slug: r for r in catalog.dependency_subgraph(session=session, slugs=own)}
    jobs, ledger = _changes(session, [r.id for r in reached.values()], since=since,
                            until=until, limit=limit)
    by_id = {r.id: r for r in reached.values()}
    # The jobs were matched on their service id, so each has one.
    rows = [_job_row(job, by_id[job.service_id]) for job in jobs if job.service_id is not None]
    rows += [row for entry in ledger
             for row in _silence_rows(entry, reached, since=since, until=until, now=now)]
    rows.sort(key=lambda r: r.at, reverse=True)
    return Suspects(since=since, until=until, hours=hours, rows=rows[:limit],
                    truncated=len(jobs) >= limit or len(ledger) >= limit or len(rows) > limit,
                    services=sorted(own), dependencies=len(set(reached) - own))


# The panel reads a few columns of each job and silence: plain rows of exactly those are
# several times cheaper to load than the mapped objects of `selfservice.changes_for_services`
# and `silence_ledger.changed_between`, whose rows and order these two reads keep.
_JOBS, _USERS = Job.__table__, User.__table__
_LEDGER = LedgerSilence.__table__
_JOB_CHANGED_AT = func.coalesce(_JOBS.c.finished_at, _JOBS.c.started_at, _JOBS.c.created_at)

# The jobs and the silence changes come in one statement: each part keeps its own order and
# LIMIT, the rows of the other part's columns are null, and `part` tells them apart. It is
# built once, with its values as parameters: building it (and its cache key) on every
# incident page costs more than running it.
_SINCE, _UNTIL = bindparam("since", type_=DateTime(timezone=True)), bindparam(
    "until", type_=DateTime(timezone=True))
_LIMIT = bindparam("limit", type_=Integer)
_JOB_COLUMNS = (_JOBS.c.id, _JOBS.c.template, _JOBS.c.action, _JOBS.c.tier, _JOBS.c.params,
                _JOBS.c.result, _JOBS.c.plan, _JOBS.c.status, _JOBS.c.status_reason,
                _JOBS.c.finished_at, _JOBS.c.started_at, _JOBS.c.created_at,
                _JOBS.c.service_id, _USERS.c.name, _USERS.c.email)
_LEDGER_COLUMNS = (_LEDGER.c.silence_id, _LEDGER.c.matchers, _LEDGER.c.created_at,
                   _LEDGER.c.created_by, _LEDGER.c.recreated_at, _LEDGER.c.expired_at,
                   _LEDGER.c.ends_at, _LEDGER.c.comment)


def _nulls(columns) -> list:
    return [null().cast(c.type).label(f"{c.table.name}_{c.name}") for c in columns]


def _labelled(columns) -> list:
    return [c.label(f"{c.table.name}_{c.name}") for c in columns]


def _changes_statement():
    # Jobs on these catalog entries that reached their apply phase in the window (by when
    # they finished, else started, else were requested), newest first, with their requester.
    jobs = (select(literal_column("0", Integer).label("part"),
                   _JOB_CHANGED_AT.label("changed_at"),
                   *_labelled(_JOB_COLUMNS), *_nulls(_LEDGER_COLUMNS))
            .join_from(_JOBS, _USERS, _USERS.c.id == _JOBS.c.requested_by_id)
            .where(_JOBS.c.service_id.in_(bindparam("service_ids", expanding=True)),
                   _JOBS.c.phase == "apply", _JOB_CHANGED_AT.between(_SINCE, _UNTIL))
            .order_by(_JOB_CHANGED_AT.desc()).limit(_LIMIT).subquery())
    # Portal silences created, expired or re-created in the window, newest first by
    # creation (the ends_at index bounds the scan, as in `silence_ledger.changed_between`).
    ledger = (select(literal_column("1", Integer).label("part"),
                     _LEDGER.c.created_at.label("changed_at"),
                     *_nulls(_JOB_COLUMNS), *_labelled(_LEDGER_COLUMNS))
              .where(_LEDGER.c.ends_at >= _SINCE, _LEDGER.c.created_at <= _UNTIL, or_(
                  _LEDGER.c.created_at.between(_SINCE, _UNTIL),
                  _LEDGER.c.expired_at.between(_SINCE, _UNTIL),
                  _LEDGER.c.recreated_at.between(_SINCE, _UNTIL)))
              .order_by(_LEDGER.c.created_at.desc()).limit(_LIMIT).subquery())
    both = union_all(select(jobs), select(ledger)).subquery()
    return select(both).order_by(both.c.part, both.c.changed_at.desc())


_CHANGES = _changes_statement()


def _changes(session: Session, service_ids: list[int], *, since: datetime, until: datetime,
             limit: int) -> tuple[list[SimpleNamespace], list[SimpleNamespace]]:
    """The jobs on these catalog entries and the portal's silence changes in the window."""
    jobs: list[SimpleNamespace] = []
    ledger: list[SimpleNamespace] = []
    for r in session.execute(_CHANGES, {"service_ids": service_ids, "since": since,
                                        "until": until, "limit": limit}):
        m = r._mapping
        if r.part == 0:
            jobs.append(SimpleNamespace(
                id=m["selfservice_jobs_id"], template=m["selfservice_jobs_template"],
                action=m["selfservice_jobs_action"], tier=m["selfservice_jobs_tier"],
                params=m["selfservice_jobs_params"], result=m["selfservice_jobs_result"],
                plan=m["selfservice_jobs_plan"], status=m["selfservice_jobs_status"],
                status_reason=m["selfservice_jobs_status_reason"],
                finished_at=m["selfservice_jobs_finished_at"],
                started_at=m["selfservice_jobs_started_at"],
                created_at=m["selfservice_jobs_created_at"],
                service_id=m["selfservice_jobs_service_id"],
                label=str(m["selfservice_jobs_id"])[:8],
                requested_by=SimpleNamespace(name=m["users_name"], email=m["users_email"])))
        else:
            matchers = m["oncall_silence_ledger_matchers"]
            ledger.append(SimpleNamespace(
                **{c.name: m[f"oncall_silence_ledger_{c.name}"] for c in _LEDGER_COLUMNS},
                matcher_tuple=partial(_matchers, matchers)))
    return jobs, ledger


def _matchers(stored: list) -> tuple[Matcher, ...]:
    # As `LedgerSilence.matcher_tuple`.
    return tuple(Matcher(m["name"], m["value"], m.get("isRegex", False),
                         m.get("isEqual", True)) for m in stored)


def _job_row(job: Any, reached: catalog.Reached) -> Suspect:
    template = job_templates.get(job.template)
    engine = template.engine if template else ""
    kind = job.action if engine == "argocd" else engine or job.action
    return Suspect(at=job.finished_at or job.started_at or job.created_at, kind=kind,
                   service_slug=reached.slug, service_name=reached.name,
                   who=job.requested_by.name,
                   what=job_summary(job), outcome=_job_outcome(job), path=reached.path,
                   job=job)


def job_summary(job: Any) -> str:
    """What the job changed, in a line: version, revision or plan summary."""
    params, result, plan = job.params, job.result or {}, job.plan or {}
    if job.action == "deploy":
        was = result.get("previous_tag") or plan.get("from")
        text = f"{params.get('image_tag')} to {job.tier}" + (f" (was {was})" if was else "")
    elif job.action == "rollback":
        text = f"revert to {result.get('tag') or 'the previous version'} in {job.tier}"
    elif "playbook" in params:
        mode = "check" if result.get("check") else "for real"
        text = f"{params['playbook']}.yml on {params.get('group')} ({mode})"
    else:
        counts = result if "add" in result else plan
        text = (f"{job.action} {params.get('name', '')}: +{counts.get('add', 0)} "
                f"~{counts.get('change', 0)} -{counts.get('destroy', 0)}")
    commit = result.get("commit")
    return text + (f", commit {commit[:12]}" if commit else "")


def _job_outcome(job: Any) -> str:
    if job.status == "awaiting_approval":
        return "awaiting approval"
    return job.status + (f": {job.status_reason}" if job.status_reason else "")


def closest_hit(matchers, reached: dict[str, catalog.Reached]) -> catalog.Reached | None:
    """The entry nearest to the incident whose alerts the silence's matchers select."""
    on_service = [m for m in matchers if m.name == SERVICE_LABEL]
    if not on_service:
        return None
    hits = [r for r in reached.values()
            if all(silences.matches(m, r.slug) for m in on_service)]
    return min(hits, key=lambda r: (len(r.path), r.slug), default=None)


def _silence_rows(entry, reached: dict[str, catalog.Reached], *, since: datetime,
                  until: datetime, now: datetime) -> list[Suspect]:
    hit = closest_hit(entry.matcher_tuple(), reached)
    if hit is None:
        return []
    shown = ", ".join(m.as_filter() for m in entry.matcher_tuple())
    if entry.expired_at is not None:
        state = f"ended early {entry.expired_at:%Y-%m-%d %H:%M} UTC"
    elif entry.ends_at > now:
        state = f"active until {entry.ends_at:%Y-%m-%d %H:%M} UTC"
    else:
        state = f"ended {entry.ends_at:%Y-%m-%d %H:%M} UTC"
    # Undone while it can matter: a live silence is expired, one ended early is re-created
    # until its original end.
    live = entry.expired_at is None and entry.ends_at > now
    events = [(entry.created_at, entry.created_by, f"silence created: {shown}",
               "expire" if live else None),
              (entry.recreated_at, "the portal", f"silence re-created: {shown}",
               "expire" if live else None),
              (entry.expired_at, "", f"silence expired: {shown}",
               "recreate" if entry.ends_at > now else None)]
    return [Suspect(at=at, kind="silence", service_slug=hit.slug, service_name=hit.name,
                    who=who or "—", what=f"{what}; {entry.comment}", outcome=state,
                    path=hit.path, silence_id=entry.silence_id, silence_undo=undo)
            for at, who, what, undo in events if at is not None and since <= at <= until]
