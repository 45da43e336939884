"""Self-service demo history: Devi Developer promotes a Billing release through the portal.

Both deploys are requested through `service.request_job` as the demo developer would, and
their phases really run (`execution.run_here`): the plans read, and the staging apply
commits to, the local demo GitOps repo (INSTANCE_DIR/gitops, created from infra/argocd);
with no ArgoCD configured the commit is left to ArgoCD's polling, as the job says. The
prod deploy stops where a real one would: planned, awaiting a manager's approval. Nothing
is invented: when a real GitOps repo or ArgoCD is configured (or there is no app to run
the deploys with) the demo leaves them alone and seeds no deploys at all.
"""
from __future__ import annotations

from flask import current_app, has_app_context
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.auth import audit
from portal.auth import service as accounts
from portal.selfservice import execution, service
from portal.selfservice.models import Job

DEVELOPER = "dev@meridian.example"
SERVICE = "billing"
TAG = "v1.23.0"  # the next release after the v1.22.3 both environments run in infra/argocd
WORKER = "portal seed-demo"


def seed(*, session: Session) -> None:
    """A succeeded staging deploy and a prod deploy awaiting approval (idempotent)."""
    if not has_app_context():
        return  # the deploys run for real, which needs the app's GitOps repo and work dir
    config = current_app.config
    if config.get("SELFSERVICE_GITOPS_REPO") or config.get("ARGOCD_URL"):
        return  # never commit demo deploys to a real GitOps repo or sync a real ArgoCD
    developer = accounts.get_by_email(session=session, email=DEVELOPER)
    if developer is None:
        return
    for environment in ("staging", "prod"):
        if _already_requested(session=session, requester_id=developer.id,
                              environment=environment):
            continue
        raw = {"service": SERVICE, "environment": environment, "image_tag": TAG}
        try:
            job = service.request_job(session=session, template_slug="service-deploy", raw=raw,
                                      requester=developer)
        except service.Refused:
            continue  # e.g. a frozen error budget: the demo obeys policy like anyone
        audit.record(session=session, action="selfservice.request", actor=developer,
                     target_type="selfservice_job", target_id=job.id,
                     details={"template": job.template, "params": job.params,
                              "via": WORKER})
        execution.run_here(session=session, job=job, worker=WORKER)


def _already_requested(*, session: Session, requester_id: int, environment: str) -> bool:
    return session.scalar(select(Job.id).where(
        Job.requested_by_id == requester_id, Job.template == "service-deploy",
        Job.params["service"].astext == SERVICE,
        Job.params["environment"].astext == environment,
        Job.params["image_tag"].astext == TAG).limit(1)) is not None
