"""The drift inbox: differences between the code and what runs, and what people do about them.

A scan (portal.selfservice.drift_scan) reports the findings of one environment or site;
`record_scan` files each as one item keyed by (source, scope, subject), so finding the
same drift again updates its item instead of adding one, and an item the scan no longer
finds is resolved. People move an item from `new` to `accepted` (the live state is
fine), `remediating` (a request to put the code's state back is under way) or
`reverted` (put back by hand); a later scan that still finds it, or finds it changed
after it was accepted, opens it again.
"""
from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime

from flask import current_app
from sqlalchemy import case, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from portal.auth.models import User
from portal.catalog import service as catalog
from portal.db import utcnow
from portal.selfservice import job_templates, service
from portal.selfservice.models import DriftItem, DriftScan, Environment, Job

# action -> (states it may start from, state it leads to)
TRANSITIONS = {"accept": (("new", "reverted"), "accepted"),
               "remediate": (("new", "accepted", "reverted"), "remediating"),
               "revert": (("new", "accepted", "remediating"), "reverted")}
OPEN = ("new", "accepted", "remediating", "reverted")
IN_FLIGHT = ("queued", "awaiting_approval", "running")


@dataclass(frozen=True)
class Finding:
    """One difference a scan found: a resource or a host's task, and what differs."""
    subject: str
    summary: str
    details: dict = field(default_factory=dict)


def fingerprint(details: dict) -> str:
    """A digest of what differs: the same drift found again has the same one."""
    return hashlib.sha256(json.dumps(details, sort_keys=True, default=str).encode()).hexdigest()


def team_id(*, session: Session, slug: str | None) -> int | None:
    """The catalog team with this slug, or None."""
    return next((t.id for t in catalog.list_teams(session=session) if t.slug == slug), None)


def record_scan(*, session: Session, source: str, scope: str, findings: list[Finding],
                team: int | None = None, environment_id: int | None = None,
                now: datetime | None = None) -> dict[str, int]:
    """File a clean or drifted scan of one scope: upsert its items, resolve the vanished."""
    now = now or utcnow()
    items = {i.subject: i for i in session.scalars(
        select(DriftItem).where(DriftItem.source == source, DriftItem.scope == scope)
        .with_for_update(of=DriftItem))}
    counts = {"new": 0, "updated": 0, "resolved": 0}
    for finding in findings:
        item, digest = items.pop(finding.subject[:300], None), fingerprint(finding.details)
        if item is None:
            session.add(DriftItem(source=source, scope=scope, subject=finding.subject[:300],
                                  summary=finding.summary[:500], details=finding.details,
                                  fingerprint=digest, state="new", team_id=team,
                                  environment_id=environment_id, first_detected_at=now,
                                  last_detected_at=now))
            counts["new"] += 1
            continue
        reopen = item.state in ("resolved", "reverted") or (
            item.state == "accepted" and item.fingerprint != digest)
        if reopen:
            item.state, item.resolved_at, item.state_changed_at = "new", None, now
            item.state_changed_by_id = None
        item.summary, item.details, item.fingerprint = finding.summary[:500], finding.details, digest
        item.last_detected_at, item.team_id = now, team if team is not None else item.team_id
        counts["updated"] += 1
    for item in items.values():
        if item.state != "resolved":
            item.state, item.resolved_at, item.state_changed_at = "resolved", now, now
            counts["resolved"] += 1
    note_scan(session=session, source=source, scope=scope,
              outcome="drift" if findings else "clean", items=len(findings), now=now)
    session.flush()
    return counts


def note_scan(*, session: Session, source: str, scope: str, outcome: str, items: int = 0,
              error: str | None = None, now: datetime | None = None) -> None:
    """Remember how the latest scan of a scope ended (a failed scan leaves its items be)."""
    values = {"source": source, "scope": scope, "scanned_at": now or utcnow(),
              "outcome": outcome, "items": items, "error": (error or None) and error[:2000]}
    session.execute(insert(DriftScan).values(**values).on_conflict_do_update(
        constraint="uq_selfservice_drift_scans_scope", set_=values))


def scannable_environments(*, session: Session) -> list[Environment]:
    """Active environments, each planned against its recorded request."""
    return list(session.scalars(select(Environment).where(Environment.status == "active")
                                .order_by(Environment.name)))


def change_in_flight(*, session: Session, target: str) -> bool:
    """Whether a job on this target is queued, waiting at its gate or running."""
    return session.scalar(select(Job.id).where(Job.target == target,
                                               Job.status.in_(IN_FLIGHT)).limit(1)) is not None


def inbox(*, session: Session, state: str | None = None, limit: int = 200) -> list[DriftItem]:
    """Drift items, open ones first (new before the rest), newest detection first."""
    order = case({"new": 0, "remediating": 1, "reverted": 2, "accepted": 3}, value=DriftItem.state,
                 else_=4)
    query = select(DriftItem)
    if state:
        query = query.where(DriftItem.state == state)
    return list(session.scalars(query.order_by(order, DriftItem.last_detected_at.desc(),
                                               DriftItem.id).limit(limit)))


def scans(*, session: Session) -> list[DriftScan]:
    """The latest scan of each environment and site."""
    return list(session.scalars(select(DriftScan).order_by(DriftScan.source, DriftScan.scope)))


def get_item(*, session: Session, item_id: int) -> DriftItem | None:
    """A drift item by id."""
    return session.get(DriftItem, item_id)


def transition(*, session: Session, item: DriftItem, action: str, user: User,
               now: datetime | None = None) -> DriftItem:
    """Move an item by a person's action; `remediate` also requests the fix (a job)."""
    if action not in TRANSITIONS:
        raise service.Refused(f"Unknown action {action!r}.")
    allowed, target = TRANSITIONS[action]
    if item.state not in allowed:
        raise service.Refused(f"This drift is {item.state}; it cannot be {target} now.")
    now = now or utcnow()
    siblings = [item]
    if action == "remediate":
        job = _remediation_job(session=session, item=item, user=user)
        # One request puts the whole environment or site back: its other open items go with it.
        siblings = list(session.scalars(select(DriftItem).where(
            DriftItem.source == item.source, DriftItem.scope == item.scope,
            DriftItem.state.in_(TRANSITIONS["remediate"][0]))))
        for sibling in siblings:
            sibling.remediation_job_id = job.id
    for row in siblings:
        row.state, row.state_changed_at, row.state_changed_by_id = target, now, user.id
    session.flush()
    return item


def _remediation_job(*, session: Session, item: DriftItem, user: User) -> Job:
    if item.source == "ansible":
        return service.request_job(session=session, template_slug="edge-patching",
                                   raw={"group": item.scope, "playbook": current_app.config[
                                       "SELFSERVICE_DRIFT_PLAYBOOK"]}, requester=user)
    env = item.environment
    if env is None or env.status != "active":
        raise service.Refused("The environment is not active any more; nothing to put back.")
    target = f"terraform:{env.name}"
    if change_in_flight(session=session, target=target):
        raise service.Refused("A change of this environment is already under way; wait for it.")
    if user.id != env.owner_id and not user.has_role("manager", "admin"):
        raise service.Refused("Only the environment's owner or a manager requests its fix.")
    template = job_templates.get(env.template)
    params = {"name": env.name, **env.variables}
    job = Job(id=uuid.uuid4(), template=env.template, action="remediate", tier=env.tier,
              target=target, params=params,
              gate=template.gate({"environment": env.tier, **params}) if template else "confirm",
              environment=env, requested_by=user,
              timeout_seconds=current_app.config["SELFSERVICE_JOB_TIMEOUT"])
    session.add(job)
    session.flush()
    service.queue_phase(session=session, job=job)
    service.record_step(session=session, job=job, step="requested", actor_email=user.email)
    return job
