"""Send job tasks to Celery only after the transaction that queued them has committed.

A task that started before the commit would not see its job row, so
service functions only `schedule` a job; portal.jobs sends it after the commit.
Approval notifications ride the same hook: a rolled-back decision never tells anyone.
"""
from __future__ import annotations

import logging

from flask import current_app
from sqlalchemy.orm import Session

from portal import jobs

KEY = "selfservice_jobs_to_send"
TASK = "portal.selfservice.tasks.run_job"
NOTIFY_KEY = "selfservice_notifications_to_send"
NOTIFY_TASK = "portal.selfservice.tasks.deliver_notifications"
log = logging.getLogger(__name__)


def schedule(*, session: Session, job_id) -> None:
    """Send the job's task once this session commits."""
    jobs.after_commit_batch(session, KEY, str(job_id), _send_jobs)


def unschedule(*, session: Session, job_id) -> None:
    """Take the job back out of the send-on-commit list (it runs in this process instead)."""
    pending = session.info.get(KEY, [])
    while str(job_id) in pending:
        pending.remove(str(job_id))


def schedule_notifications(*, session: Session, notification_ids: list[int]) -> None:
    """Send these notifications once this session commits (a rollback drops them)."""
    for notification_id in notification_ids:
        jobs.after_commit_batch(session, NOTIFY_KEY, notification_id, _send_notifications)


def send_notifications(notification_ids: list[int]) -> None:
    """Enqueue the delivery of committed notifications; the beat retries what is left."""
    celery = current_app.extensions["celery"]
    try:
        celery.send_task(NOTIFY_TASK, args=[notification_ids],
                         queue=current_app.config["SELFSERVICE_QUEUE"])
    except Exception:  # the rows are committed: the beat's sweep delivers them later
        log.warning("could not enqueue notifications %s", notification_ids, exc_info=True)


def send(job_id: str) -> None:
    """Enqueue the job's next phase; the Celery task id is the job id."""
    celery = current_app.extensions["celery"]
    celery.send_task(TASK, args=[job_id], task_id=job_id,
                     queue=current_app.config["SELFSERVICE_QUEUE"])


def _send_jobs(job_ids: list[str]) -> None:
    for job_id in job_ids:
        send(job_id)  # looked up at call time: tests replace it


def _send_notifications(notification_ids: list[int]) -> None:
    send_notifications(notification_ids)
