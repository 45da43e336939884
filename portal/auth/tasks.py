"""Periodic housekeeping of the auth domain."""
from celery import shared_task
from celery.schedules import crontab
from flask import current_app

from portal.auth import audit
from portal.extensions import db

BEAT_SCHEDULE = {
    "purge-audit-log": {"task": "portal.auth.tasks.purge_audit_log",
                        "schedule": crontab(hour=3, minute=17)},
}


@shared_task(name="portal.auth.tasks.purge_audit_log")
def purge_audit_log() -> int:
    """Delete audit entries past AUDIT_RETENTION_DAYS and record that it happened."""
    days = current_app.config["AUDIT_RETENTION_DAYS"]
    with db.session_scope() as session:
        removed = audit.purge_older_than(session=session, days=days)
        audit.record(session=session, action="audit.purge", actor_email="system",
                     details={"removed": removed, "retention_days": days})
    return removed
