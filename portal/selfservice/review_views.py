"""What the job page shows about approvals: the decisions with their comments and the
notifications sent about them (template helpers of the self-service blueprint)."""
from __future__ import annotations

from portal.extensions import db
from portal.selfservice import notifications, review
from portal.selfservice.blueprint import bp
from portal.selfservice.models import Job


@bp.app_template_global("selfservice_job_decisions")
def job_decisions(job: Job):
    """The decisions taken on `job`, with their comments, oldest first."""
    return review.decisions_of(session=db.session, job=job)


@bp.app_template_global("selfservice_job_notifications")
def job_notifications(job: Job):
    """The approval notifications of `job` and how their delivery went."""
    return notifications.for_job(session=db.session, job=job)
