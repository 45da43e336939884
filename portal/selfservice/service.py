"""Self-service requests and the life of a job, as seen by people (the worker side is in
portal.selfservice.execution)."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import or_, select, text
from sqlalchemy.orm import Session, raiseload

from portal.auth import audit
from portal.auth.models import User
from portal.catalog import service as catalog
from portal.db import utcnow
from portal.selfservice import dispatch, job_templates, policy
from portal.selfservice.models import (
    CHANGED_AT,
    FINISHED,
    FLAGGED_ROLLOUTS,
    Environment,
    Job,
    JobLog,
)
from portal.selfservice.parameters import clean_all


class UnknownTemplate(LookupError):
    """No template has this slug."""


class InvalidParameters(ValueError):
    """Some parameters were refused; `errors` maps field name to message."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


class Refused(PermissionError):
    """Policy or state forbids the action; `reasons` says why, for the user."""

    def __init__(self, reasons: list[str] | str):
        self.reasons = [reasons] if isinstance(reasons, str) else reasons
        super().__init__(" ".join(self.reasons))


def request_job(*, session: Session, template_slug: str, raw: dict, requester: User,
                now: datetime | None = None, environment: Environment | None = None) -> Job:
    """Validate, apply policy, and queue a new job (its plan runs first); with an existing
    `environment`, a Terraform template applies these values to it again (an update)."""
    template = job_templates.get(template_slug)
    if template is None:
        raise UnknownTemplate(template_slug)
    values, errors = clean_all(template.params, raw, session=session)
    if errors:
        raise InvalidParameters(errors)
    entry = values.get("service") or template.catalog_entry
    service = catalog.get_service(session=session, slug=entry) if entry else None
    reasons = policy.check_request(session=session, template=template, values=values,
                                   requester=requester,
                                   service_id=service.id if service else None,
                                   reapplies=environment.id if environment else None)
    if environment is not None:
        reasons += _reapply_reasons(template=template, values=values, environment=environment)
    if template.action == "rollback":
        values.update(_rollback_source(session=session, values=values, reasons=reasons))
    if reasons:
        raise Refused(reasons)
    tier = template.tier(values)
    job = Job(id=uuid.uuid4(), template=template.slug,
              action="update" if environment is not None else template.action, tier=tier,
              target=template.target(values), params=values, gate=template.gate(values),
              service=service, requested_by=requester,
              timeout_seconds=current_app.config["SELFSERVICE_JOB_TIMEOUT"])
    if environment is not None:
        job.environment = environment
    elif template.engine == "terraform":
        job.environment = _new_environment(template=template, values=values, tier=tier,
                                           requester=requester, now=now or utcnow())
    session.add(job)
    session.flush()
    queue_phase(session=session, job=job)
    record_step(session=session, job=job, step="requested", actor_email=requester.email)
    return job


def _reapply_reasons(*, template, values: dict, environment: Environment) -> list[str]:
    """Why these values cannot be applied to the existing environment again."""
    if template.engine != "terraform" or environment.template != template.slug \
            or environment.name != values["name"]:
        return [f"Only a {environment.template} request named {environment.name} applies to "
                "that environment."]
    if environment.status not in ("active", "failed"):
        return [f"The environment {environment.name} is {environment.status}; only an active "
                "or failed environment can be applied again."]
    return []


def _new_environment(*, template, values: dict, tier: str, requester: User,
                     now: datetime) -> Environment:
    ttl = values.get("ttl_hours")
    return Environment(
        name=values["name"], template=template.slug, tier=tier, owner=requester,
        tags=policy.cost_tags(values=values, tier=tier, requester=requester),
        variables={"replicas": values["replicas"]}, status="requested",
        expires_at=now + timedelta(hours=ttl) if ttl else None)


def rollback_candidate(*, session: Session, service_slug: str, environment: str) -> Job | None:
    """The deploy a rollback of the service in `environment` would revert now: its last
    successful deploy not yet reverted (None when there is none)."""
    deploys = session.scalars(select(Job).where(
        Job.template.in_(("service-deploy", "service-rollback")), Job.status == "succeeded",
        Job.params["service"].astext == service_slug,
        Job.params["environment"].astext == environment)
        .order_by(Job.finished_at.desc())).all()
    reverted = {d.params.get("reverts_job") for d in deploys if d.action == "rollback"}
    return next((d for d in deploys if d.action == "deploy" and str(d.id) not in reverted),
                None)


def open_rollback_of(*, session: Session, deploy: Job) -> Job | None:
    """A job reverting `deploy` (or any change) that is requested and not finished yet."""
    return session.scalar(select(Job).where(
        Job.status.not_in(FINISHED),
        Job.params["reverts_job"].astext == str(deploy.id)).limit(1))


def previous_success(*, session: Session, job: Job) -> Job | None:
    """The last apply of the same template that succeeded before `job` finished, on the same
    environment (Terraform) or site group (Ansible); None when there is none."""
    before = job.finished_at or job.started_at or job.created_at
    stmt = select(Job).where(Job.template == job.template, Job.id != job.id,
                             Job.status == "succeeded", Job.phase == "apply",
                             Job.action != "destroy", Job.finished_at < before)
    if job.environment_id is not None:
        stmt = stmt.where(Job.environment_id == job.environment_id)
    else:
        stmt = stmt.where(Job.params["group"].astext == str(job.params.get("group")))
    return session.scalar(stmt.order_by(Job.finished_at.desc()).limit(1))


def _rollback_source(*, session: Session, values: dict, reasons: list[str]) -> dict:
    """The deploy a rollback reverts: the service's last successful, not yet reverted one."""
    deploy = rollback_candidate(session=session, service_slug=values["service"],
                                environment=values["environment"])
    if deploy is not None:
        return {"reverts_job": str(deploy.id), "reverts_commit": deploy.result["commit"]}
    reasons.append(f"There is no deploy of {values['service']} to {values['environment']} "
                   "made through the portal to roll back.")
    return {}


def queue_phase(*, session: Session, job: Job) -> None:
    """Queue the job's current phase; its task is sent when the transaction commits."""
    job.status = "queued"
    session.flush()
    dispatch.schedule(session=session, job_id=job.id)


def confirm(*, session: Session, job: Job, user: User) -> Job:
    """The requester confirms the plan: the apply phase is queued."""
    reason = policy.check_confirm(job=job, user=user)
    if reason:
        raise Refused(reason)
    job.phase = "apply"
    queue_phase(session=session, job=job)
    return job


def approve(*, session: Session, job: Job, approver: User, now: datetime | None = None,
            comment: str | None = None) -> Job:
    """A second person (a manager) approves a prod job: the apply phase is queued."""
    reason = policy.check_approver(session=session, job=job, approver=approver)
    if reason:
        raise Refused(reason)
    job.approved_by, job.approved_at, job.phase = approver, now or utcnow(), "apply"
    queue_phase(session=session, job=job)
    record_step(session=session, job=job, step="approved", actor_email=approver.email,
                detail=comment)
    return job


def reject(*, session: Session, job: Job, user: User, now: datetime | None = None,
           comment: str | None = None) -> Job:
    """A manager turns a prod job down; it ends cancelled with who rejected it."""
    if job.gate != "approval" or job.status != "awaiting_approval":
        raise Refused("This job is not waiting for an approval.")
    job.cancelled_by = user
    reason = f"rejected by {user.email}" + (f": {comment}" if comment else "")
    finish(session=session, job=job, status="cancelled", reason=reason, now=now)
    return job


def cancel(*, session: Session, job: Job, user: User, reason: str = "cancelled",
           now: datetime | None = None) -> Job:
    """Cancel a waiting job at once; a running one is asked to stop at its next heartbeat."""
    if job.finished:
        raise Refused(f"This job already {job.status}.")
    job.cancelled_by = user
    if job.status == "running":
        job.cancel_requested = True
    else:
        finish(session=session, job=job, status="cancelled",
               reason=f"{reason} by {user.email}", now=now)
    session.flush()
    return job


def retry(*, session: Session, job: Job, user: User) -> Job:
    """A new job with the same request, linked to the failed or cancelled one."""
    if job.status not in ("failed", "cancelled"):
        raise Refused("Only failed or cancelled jobs can be retried.")
    if job.environment is not None and job.action == "create":
        # The name is freed for the new request; its Terraform workspace is keyed by the
        # name, so whatever a failed apply left behind is in the new job's plan.
        job.environment.status = "destroyed"
        session.flush()
    raw = {k: v for k, v in job.params.items() if k not in ("reverts_job", "reverts_commit")}
    reapplied = job.environment if job.action == "update" else None
    if job.action == "destroy":
        assert job.environment is not None  # a destroy job is always of an environment
        new = destroy_environment(session=session, environment=job.environment, user=user)
    else:
        new = request_job(session=session, template_slug=job.template, raw=raw,
                          requester=user, environment=reapplied)
    new.retry_of_id = job.id
    session.flush()
    return new


def destroy_environment(*, session: Session, environment: Environment, user: User | None,
                        gate: str = "confirm") -> Job:
    """Queue a destroy of an environment (plan -destroy, then apply after the gate)."""
    if environment.status not in ("active", "failed"):
        raise Refused(f"The environment is {environment.status}; only active or failed "
                      "environments can be destroyed.")
    if user is not None and user.id != environment.owner_id and not user.has_role("admin"):
        raise Refused("Only the owner destroys an environment.")
    job = Job(id=uuid.uuid4(), template=environment.template, action="destroy",
              tier=environment.tier, target=f"terraform:{environment.name}",
              params={"name": environment.name, **environment.variables}, gate=gate,
              environment=environment, requested_by=user or environment.owner,
              timeout_seconds=current_app.config["SELFSERVICE_JOB_TIMEOUT"])
    environment.status = "destroying"
    session.add(job)
    session.flush()
    queue_phase(session=session, job=job)
    return job


def record_expiry(*, session: Session, job: Job) -> None:
    """Note in the audit log that an environment's time to live ran out."""
    audit.record(session=session, action="selfservice.environment.expired",
                 actor_email="selfservice-ttl", target_type="selfservice_environment",
                 target_id=job.environment_id, details={"job_id": str(job.id)})


def finish(*, session: Session, job: Job, status: str, reason: str | None = None,
           now: datetime | None = None) -> None:
    """Put a job in a final state and keep its environment's status in step."""
    job.status, job.status_reason, job.finished_at = status, reason, now or utcnow()
    env = job.environment
    if env is not None and status != "succeeded" and env.status in ("requested", "provisioning"):
        env.status = "failed" if status == "failed" else "destroyed"
    elif env is not None and status != "succeeded" and env.status == "destroying":
        env.status = "active" if status == "cancelled" else "failed"
    session.flush()
    record_step(session=session, job=job, step=status, actor_email=None, detail=reason)


def record_step(*, session: Session, job: Job, step: str, actor_email: str | None,
                detail: str | None = None) -> None:
    """Put a job step on the timeline of the service it touches."""
    if job.service is None:
        return
    what = {"deploy": f"deploy of {job.params.get('image_tag')}",
            "rollback": "rollback"}.get(job.action, job.action)
    summary = f"Self-service {what} to {job.tier}: {step}"
    catalog.record_event(session=session, service=job.service, kind="deploy",
                         summary=summary + (f" ({detail})" if detail else ""),
                         actor_email=actor_email, url=job_path(job),
                         details={"job_id": str(job.id), "step": step})


def job_path(job: Job) -> str:
    """The job page's path, also outside a request (tasks)."""
    return current_app.url_map.bind("").build("selfservice.job_detail", {"job_id": job.id})


def get_job(*, session: Session, job_id: str) -> Job | None:
    """A job by id (None for an unknown or malformed id)."""
    try:
        return session.get(Job, uuid.UUID(str(job_id)))
    except ValueError:
        return None


def get_environment(*, session: Session, environment_id: int) -> Environment | None:
    """An environment by id."""
    return session.get(Environment, environment_id)


def logs_after(*, session: Session, job: Job, after: int, limit: int = 500) -> list[JobLog]:
    """The job's log lines with an offset greater than `after`, oldest first."""
    return list(session.scalars(select(JobLog).where(JobLog.job_id == job.id,
                                                     JobLog.seq > after)
                                .order_by(JobLog.seq).limit(limit)))


def jobs_of(*, session: Session, user: User, limit: int = 20) -> list[Job]:
    """Jobs the user requested, newest first."""
    return list(session.scalars(select(Job).where(Job.requested_by_id == user.id)
                                .order_by(Job.created_at.desc()).limit(limit)))


def my_environments(*, session: Session, user: User) -> list[Environment]:
    """Environments the user owns that are not destroyed yet, newest first (the home panel
    reads the same ones with my_environment_names)."""
    return list(session.scalars(select(Environment).where(
        Environment.owner_id == user.id, Environment.status != "destroyed")
        .order_by(Environment.created_at.desc(), Environment.id.desc())))


@dataclass(frozen=True)
class EnvironmentName:
    """What the home panel shows of an environment."""
    name: str
    status: str


# The same environments as my_environments, as two plain columns: a text statement costs
# the home page no ORM statement building for a list that shows names and states only.
_MY_ENVIRONMENT_NAMES = text(f"""
SELECT name, status FROM {Environment.__tablename__}
WHERE owner_id = :owner AND status <> 'destroyed'
ORDER BY created_at DESC, id DESC
""")


def my_environment_names(*, session: Session, user: User) -> list[EnvironmentName]:
    """The names and states of my_environments, in its order, instead of the environments
    with their owner, variables and outputs."""
    rows = session.execute(_MY_ENVIRONMENT_NAMES, {"owner": user.id})
    return [EnvironmentName(name, status) for name, status in rows]


def pending_approvals(*, session: Session, user: User) -> list[Job]:
    """Planned prod jobs waiting for a second person's approval (not the user's own)."""
    return list(session.scalars(select(Job).where(
        Job.status == "awaiting_approval", Job.gate == "approval",
        Job.requested_by_id != user.id).order_by(Job.planned_at)))


@dataclass(frozen=True)
class Requester:
    email: str


@dataclass(frozen=True)
class ServiceJob:
    """What a catalog service page shows of one of its jobs (selfservice/_service_panel):
    the fields of Job it reads, with only the parameters it shows."""
    id: uuid.UUID
    template: str
    action: str
    tier: str
    status: str
    created_at: datetime
    params: dict[str, Any]
    rollout_outcome: Any
    requested_by: Requester

    @property
    def label(self) -> str:
        return str(self.id)[:8]

    @property
    def flagged(self) -> bool:
        return self.status == "succeeded" and self.rollout_outcome in FLAGGED_ROLLOUTS


# The newest jobs touching a service (deploys and rollbacks), as the service page shows
# them: plain columns and the few JSON values shown (as JSON, so they print as before),
# instead of whole jobs with their environment, service and people.
_SERVICE_JOBS = text(f"""
SELECT j.id, j.template, j.action, j.tier, j.status, j.created_at,
       j.params -> 'image_tag', j.params -> 'reverts_commit',
       j.result -> 'rollout' -> 'outcome', u.email
FROM {Job.__tablename__} j JOIN {User.__tablename__} u ON u.id = j.requested_by_id
WHERE j.service_id = :service_id
ORDER BY j.created_at DESC, j.id DESC
LIMIT :shown
""")


def service_jobs(*, session: Session, service_id: int, limit: int = 10) -> list[ServiceJob]:
    """The newest jobs touching a service (deploys and rollbacks), newest first."""
    rows = session.execute(_SERVICE_JOBS, {"service_id": service_id, "shown": limit})
    return [ServiceJob(job_id, template, action, tier, status, created_at,
                       {"image_tag": image_tag, "reverts_commit": reverts_commit}, outcome,
                       Requester(email))
            for job_id, template, action, tier, status, created_at, image_tag, reverts_commit,
            outcome, email in rows]


def changes_for_services(*, session: Session, service_ids: list[int], since: datetime,
                         until: datetime, limit: int) -> list[Job]:
    """Jobs on these catalog entries that reached their apply phase between `since` and
    `until` (by when they finished, else started, else were requested), newest first."""
    if not service_ids:
        return []
    # Only the requester is read with them: the other joined relationships would make each
    # page's statement several joins wider for nothing.
    return list(session.scalars(select(Job).where(
        Job.service_id.in_(service_ids), Job.phase == "apply",
        CHANGED_AT.between(since, until)).order_by(CHANGED_AT.desc()).limit(limit)
        .options(raiseload(Job.environment), raiseload(Job.service),
                 raiseload(Job.approved_by))))


def expired_environments(*, session: Session, now: datetime | None = None) -> list[Environment]:
    """Active environments whose time to live ran out."""
    return list(session.scalars(select(Environment).where(
        Environment.status == "active", Environment.expires_at <= (now or utcnow()))))


def stale_jobs(*, session: Session, lost_after: int, now: datetime | None = None) -> list[Job]:
    """Running jobs whose heartbeat stopped more than `lost_after` seconds ago."""
    cutoff = (now or utcnow()) - timedelta(seconds=lost_after)
    return list(session.scalars(select(Job).where(
        Job.status == "running",
        or_(Job.heartbeat_at < cutoff, Job.heartbeat_at.is_(None)))))
