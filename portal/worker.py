"""The Celery app: broker and backend from the portal's config, tasks run in app context."""
from __future__ import annotations

from typing import Any

from celery import Celery, Task
from flask import Flask

from portal import domains
from portal.worker_health import Heartbeat


def beat_schedule() -> dict:
    """The periodic tasks: every domain's tasks module may define BEAT_SCHEDULE."""
    schedule: dict = {}
    for module in domains.modules("tasks"):
        schedule.update(getattr(module, "BEAT_SCHEDULE", {}))
    return schedule


def broker_urls(config: dict) -> tuple[str, str]:
    """Broker and result backend: configured ones, or the portal's own database."""
    database = config["DATABASE_URL"]
    broker = config.get("CELERY_BROKER_URL") or f"sqla+{database}"
    backend = config.get("CELERY_RESULT_BACKEND") or f"db+{database}"
    return broker, backend


def make_celery(app: Flask) -> Celery[Any]:  # its tasks are a class made in here
    """Build the Celery app bound to `app`; every task body runs inside its app context."""

    class FlaskTask(Task):
        def __call__(self, *args, **kwargs):
            with app.app_context():
                return self.run(*args, **kwargs)

    broker, backend = broker_urls(app.config)
    celery = Celery(app.import_name, task_cls=FlaskTask, include=domains.module_names("tasks"))
    celery.conf.update(
        broker_url=broker, result_backend=backend,
        task_serializer="json", result_serializer="json", accept_content=["json"],
        task_acks_late=True, task_reject_on_worker_lost=True, worker_prefetch_multiplier=1,
        broker_connection_retry_on_startup=True, broker_connection_timeout=5,
        result_extended=True, task_track_started=True, timezone="UTC",
        task_default_queue=app.config.get("CELERY_DEFAULT_QUEUE") or "celery",
        beat_schedule=beat_schedule(),
        # Two beats never double a scheduled run: only the advisory lock's holder sends.
        beat_scheduler="portal.beat_lock:LockedScheduler",
        beat_lock_database_url=app.config["DATABASE_URL"],
        database_table_names={"task": "celery_taskmeta", "group": "celery_groupmeta"},
    )
    celery.steps["worker"].add(Heartbeat)
    celery.set_default()
    app.extensions["celery"] = celery
    return celery
