"""Celery tasks of self-service: thin wrappers over portal.selfservice.execution/service."""
from __future__ import annotations

from celery import shared_task
from flask import current_app

from portal.extensions import db
from portal.selfservice import drift_scan, execution, gamedays, notifications, service

LOCK_RETRY_SECONDS = 5
LOCK_WAIT_RETRIES = 720  # an hour of waiting for another job on the same target

BEAT_SCHEDULE = {
    "selfservice-reap-lost-workers": {
        "task": "portal.selfservice.tasks.reap_lost_workers", "schedule": 30.0},
    "selfservice-destroy-expired-environments": {
        "task": "portal.selfservice.tasks.destroy_expired_environments", "schedule": 300.0},
    "selfservice-deliver-notifications": {
        "task": "portal.selfservice.tasks.deliver_notifications", "schedule": 60.0},
    "selfservice-drift-scan": {
        "task": "portal.selfservice.tasks.scan_drift", "schedule": 3600.0},
    "selfservice-gamedays": {
        "task": "portal.selfservice.tasks.advance_gamedays", "schedule": 60.0},
}


@shared_task(name="portal.selfservice.tasks.run_job", bind=True, acks_late=True,
             reject_on_worker_lost=True, max_retries=LOCK_WAIT_RETRIES)
def run_job(self, job_id: str) -> str:
    """Run the job's queued phase (task id = job id); waits while its target is locked."""
    try:
        return execution.run_job(job_id, worker=self.request.hostname or "worker")
    except execution.LockBusy as busy:
        raise self.retry(exc=busy, countdown=LOCK_RETRY_SECONDS) from busy


@shared_task(name="portal.selfservice.tasks.reap_lost_workers")
def reap_lost_workers() -> list[str]:
    """Fail running jobs whose worker stopped beating and released its lock."""
    return execution.reap_lost(lost_after=current_app.config["SELFSERVICE_WORKER_LOST_AFTER"])


@shared_task(name="portal.selfservice.tasks.destroy_expired_environments")
def destroy_expired_environments() -> list[str]:
    """Queue a destroy (no confirmation needed) of every environment past its TTL."""
    with db.session_scope() as session:
        jobs = [service.destroy_environment(session=session, environment=env, user=None,
                                            gate="auto")
                for env in service.expired_environments(session=session)]
        for job in jobs:
            service.record_expiry(session=session, job=job)
        return [str(job.id) for job in jobs]


@shared_task(name="portal.selfservice.tasks.deliver_notifications")
def deliver_notifications(notification_ids: list[int] | None = None) -> int:
    """Send these approval notifications (sent after commit), or every pending one (beat)."""
    channels = notifications.Channels.from_config(current_app.config)
    with db.session_scope() as session:
        return notifications.deliver(session=session, channels=channels, ids=notification_ids)


@shared_task(name="portal.selfservice.tasks.scan_drift")
def scan_drift() -> dict:
    """Plan every environment and check every site for drift (one scan at a time)."""
    return drift_scan.scan_all()


@shared_task(name="portal.selfservice.tasks.advance_gamedays")
def advance_gamedays() -> list[str]:
    """Commit game days whose window started; remove those whose window ended."""
    with db.session_scope() as session:
        return gamedays.advance(session=session)
