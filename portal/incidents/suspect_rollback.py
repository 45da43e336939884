"""Roll back a suspect deploy from the incident page, through the normal self-service
request path (validation, error-budget freeze, approval gates), with a written reason that
lands on the incident timeline.
"""
from __future__ import annotations

from sqlalchemy.orm import Session

from portal.auth.models import User
from portal.catalog import service as catalog
from portal.incidents import timeline
from portal.incidents.models import Incident
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


def _suspect_deploy(*, session: Session, incident: Incident, job_id: str) -> Job:
    deploy = selfservice.get_job(session=session, job_id=job_id)
    if deploy is None or deploy.action != "deploy" or deploy.service is None:
        raise RollbackRefused("That change is not a deploy the portal made.", status=404)
    reach = catalog.dependency_subgraph(session=session,
                                        slugs={s.slug for s in incident.services})
    if deploy.service.slug not in {r.slug for r in reach}:
        raise RollbackRefused("That deploy is not on this incident's services or their "
                              "dependencies.", status=404)
    if deploy.status != "succeeded":
        raise RollbackRefused(f"That deploy {deploy.status}; there is nothing of it to roll "
                              "back.")
    return deploy


def request_rollback(*, session: Session, incident: Incident, job_id: str, reason: str,
                     requester: User) -> Job:
    """Request the rollback of a suspect deploy as `requester`; returns the new job.

    Only the deploy that is live can be reverted: the rollback template reverts the
    service's latest deploy, so a later one must be rolled back first.
    """
    reason = clean_reason(reason)
    deploy = _suspect_deploy(session=session, incident=incident, job_id=job_id)
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
    pending = selfservice.open_rollback_of(session=session, deploy=deploy)
    if pending is not None:
        raise RollbackRefused(f"A rollback of this deploy is already requested (job "
                              f"{pending.label}, {pending.status.replace('_', ' ')}).")
    try:
        job = selfservice.request_job(session=session, template_slug=ROLLBACK_TEMPLATE,
                                      raw={"service": service, "environment": environment},
                                      requester=requester)
    except selfservice.Refused as exc:
        raise RollbackRefused(exc.reasons) from exc
    except selfservice.InvalidParameters as exc:
        raise RollbackRefused(list(exc.errors.values()), status=422) from exc
    job.params = {**job.params, "reason": reason, "incident_id": incident.id}
    timeline.add_entry(
        session=session, incident_id=incident.id, kind="service", actor_email=requester.email,
        summary=f"{requester.name} requested a rollback of {service} in {environment} "
                f"(reverting {deploy.params.get('image_tag')}): {reason}",
        details={"job_id": str(job.id), "reverts_job": str(deploy.id), "reason": reason,
                 "url": selfservice.job_path(job)})
    return job
