"""Send job tasks to Celery only after the transaction that queued them has committed.

A task that started before the commit would not see its job row, so
service functions only `schedule` a job; the session's after_commit hook sends it.
"""
from __future__ import annotations

from flask import current_app
from sqlalchemy import event
from sqlalchemy.orm import Session

KEY = "selfservice_jobs_to_send"
TASK = "portal.selfservice.tasks.run_job"


def schedule(*, session: Session, job_id) -> None:
    """Send the job's task once this session commits."""
    session.info.setdefault(KEY, []).append(str(job_id))


def unschedule(*, session: Session, job_id) -> None:
    """Take the job back out of the send-on-commit list (it runs in this process instead)."""
    pending = session.info.get(KEY, [])
    while str(job_id) in pending:
        pending.remove(str(job_id))


def send(job_id: str) -> None:
    """Enqueue the job's next phase; the Celery task id is the job id."""
    celery = current_app.extensions["celery"]
    celery.send_task(TASK, args=[job_id], task_id=job_id,
                     queue=current_app.config["SELFSERVICE_QUEUE"])


@event.listens_for(Session, "after_commit")
def _send_scheduled(session: Session) -> None:
    for job_id in session.info.pop(KEY, []):
        send(job_id)


@event.listens_for(Session, "after_rollback")
def _drop_scheduled(session: Session) -> None:
    session.info.pop(KEY, None)
