"""Periodic work of the catalog: the daily readiness score snapshot behind the trends."""
from celery import shared_task
from celery.schedules import crontab

from portal.catalog import service as catalog
from portal.extensions import db

BEAT_SCHEDULE = {
    "catalog-score-snapshot": {"task": "portal.catalog.tasks.snapshot_scores",
                               "schedule": crontab(hour=4, minute=5)},
}


@shared_task(name="portal.catalog.tasks.snapshot_scores")
def snapshot_scores() -> int:
    """Evaluate every catalog entry's readiness checks and store the scores."""
    with db.session_scope() as session:
        return catalog.snapshot_scores(session=session)
