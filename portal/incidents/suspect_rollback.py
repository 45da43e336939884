"""Roll back a suspect change made by a self-service job from the incident page, through
the normal self-service request path (validation, error-budget freeze, plan review and its
Rego policies, approval gates), with a written reason that lands on the job, the incident
timeline and the audit log.

A deploy is reverted by the service-rollback template; a Terraform apply by applying the
environment's previous successful parameters again; an Ansible run by running the site
group's previous successful playbook again. Silence changes are undone in
portal.incidents.suspect_silences.
"""
from __future__ import annotations

from sqlalchemy.orm import Session

from portal.auth.models import User
from portal.catalog import service as catalog
from portal.incidents import timeline
from portal.incidents.models import Incident
from portal.selfservice import job_templates
from portal.selfservice import service as selfservice
from portal.selfservice.models import Job

ROLLBACK_TEMPLATE = "service-rollback"
MIN_REASON, MAX_REASON = 10, 1000


class RollbackRefused(Exception):
    """The rollback cannot be requested; `reasons` say why, in the user's words."""

    def __init__(self, reasons: list[str] | str, *, status: int = 409):
        self.reasons = [reasons] if isinstance(reasons, str) else list(reasons)
        self.status = status
        super().__init__(" ".join(self.reasons))


def clean_reason(raw: str | None) -> str:
    """The reason as stored, or RollbackRefused (422) saying what is wrong with it."""
    text = (raw or "").replace("\r\n", "\n").strip()
    if len(text) < MIN_REASON:
        raise RollbackRefused(f"Say why you roll back (at least {MIN_REASON} characters): "
                              "it goes on the incident timeline.", status=422)
    if len(text) > MAX_REASON:
        raise RollbackRefused(f"A reason has at most {MAX_REASON:,} characters; this one has "
                              f"{len(text):,}.", status=422)
    if any(ord(c) < 32 and c not in "\n\t" for c in text):
        raise RollbackRefused("The reason contains control characters.", status=422)
    return text


def _suspect_job(*, session: Session, incident: Incident, job_id: str) -> Job:
    job = selfservice.get_job(session=session, job_id=job_id)
    if job is None or job.service is None or job.phase != "apply":
        raise RollbackRefused("That change is not one the portal made.", status=404)
    reach = catalog.dependency_subgraph(session=session,
                                        slugs={s.slug for s in incident.services})
    if job.service.slug not in {r.slug for r in reach}:
        raise RollbackRefused("That change is not on this incident's services or their "
                              "dependencies.", status=404)
    return job


def request_rollback(*, session: Session, incident: Incident, job_id: str, reason: str,
                     requester: User) -> Job:
    """Request the rollback of a suspect job's change as `requester`; returns the new job,
    whose params carry the reason, the incident and the job it reverts."""
    reason = clean_reason(reason)
    job = _suspect_job(session=session, incident=incident, job_id=job_id)
    template = job_templates.get(job.template)
    engine = template.engine if template else ""
    if job.action == "deploy":
        new, what = _revert_deploy(session=session, deploy=job, requester=requester)
    elif engine in ("terraform", "ansible") and job.action != "destroy":
        new, what = _restore_previous(session=session, change=job, requester=requester)
    else:
        raise RollbackRefused("Only deploys, Terraform applies and playbook runs are rolled "
                              "back from here.", status=404)
    new.params = {**new.params, "reason": reason, "incident_id": incident.id,
                  "reverts_job": str(job.id)}
    timeline.add_entry(
        session=session, incident_id=incident.id, kind="service", actor_email=requester.email,
        summary=f"{requester.name} requested a rollback of {what}: {reason}",
        details={"job_id": str(new.id), "reverts_job": str(job.id), "reason": reason,
                 "url": selfservice.job_path(new)})
    return new


def _requested(**kwargs) -> Job:
    """`selfservice.request_job`, its refusals in the words of this panel."""
    try:
        return selfservice.request_job(**kwargs)
    except selfservice.Refused as exc:
        raise RollbackRefused(exc.reasons) from exc
    except selfservice.InvalidParameters as exc:
        raise RollbackRefused(list(exc.errors.values()), status=422) from exc


def _refuse_pending(session: Session, change: Job) -> None:
    pending = selfservice.open_rollback_of(session=session, deploy=change)
    if pending is not None:
        raise RollbackRefused(f"A rollback of this change is already requested (job "
                              f"{pending.label}, {pending.status.replace('_', ' ')}).")


def _revert_deploy(*, session: Session, deploy: Job, requester: User) -> tuple[Job, str]:
    """Only the deploy that is live can be reverted: the rollback template reverts the
    service's latest deploy, so a later one must be rolled back first."""
    if deploy.status != "succeeded":
        raise RollbackRefused(f"That deploy {deploy.status}; there is nothing of it to roll "
                              "back.")
    service, environment = deploy.params["service"], deploy.params["environment"]
    live = selfservice.rollback_candidate(session=session, service_slug=service,
                                          environment=environment)
    if live is None:
        raise RollbackRefused(f"There is no deploy of {service} to {environment} left to roll "
                              "back to: it was already reverted.")
    if live.id != deploy.id:
        raise RollbackRefused(
            f"A later deploy of {service} to {environment} is live "
            f"({live.params.get('image_tag')}, job {live.label}); roll that one back first.")
    _refuse_pending(session, deploy)
    job = _requested(session=session, template_slug=ROLLBACK_TEMPLATE,
                     raw={"service": service, "environment": environment},
                     requester=requester)
    return job, (f"{service} in {environment} (reverting "
                 f"{deploy.params.get('image_tag')})")


def _restore_previous(*, session: Session, change: Job, requester: User) -> tuple[Job, str]:
    """Request the same template with the parameters of the last successful apply before
    `change`: on its environment for Terraform, on its site group for Ansible."""
    if change.status not in ("succeeded", "failed"):
        raise RollbackRefused(f"That job is {change.status.replace('_', ' ')}; only a finished "
                              "apply or run is rolled back.")
    env = change.environment
    if env is not None and env.status in ("destroying", "destroyed"):
        raise RollbackRefused(f"The environment {env.name} is {env.status}; there is nothing "
                              "left to roll back.")
    previous = selfservice.previous_success(session=session, job=change)
    where = f"the environment {env.name}" if env is not None else \
        f"{change.params.get('group')} with {change.template}"
    if previous is None:
        first = " (this apply created it; destroy it from its page if it must go)" \
            if env is not None and change.action == "create" else ""
        noun = "apply" if env is not None else "run"
        raise RollbackRefused(f"There is no earlier successful {noun} of {where} to return "
                              f"to{first}.")
    _refuse_pending(session, change)
    raw = {k: v for k, v in previous.params.items()
           if k not in ("reason", "incident_id", "reverts_job")}
    job = _requested(session=session, template_slug=change.template, raw=raw,
                     requester=requester, environment=env)
    job.params = {**job.params, "restores_job": str(previous.id)}
    return job, f"{where} (back to the parameters of job {previous.label})"
