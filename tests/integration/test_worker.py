"""The Celery app on the real RabbitMQ broker: a worker runs a portal task in app context."""
import secrets
from datetime import timedelta

import pytest
from celery.contrib.testing.worker import start_worker
from sqlalchemy import select

from portal.app import create_app
from portal.auth import audit
from portal.auth.models import AuditEntry
from portal.auth.tasks import purge_audit_log
from portal.db import utcnow
from portal.extensions import db

pytestmark = pytest.mark.integration


@pytest.fixture
def worker_app(base_config):
    """An app whose Celery uses RabbitMQ with a queue of its own, and commits for real."""
    app = create_app(dict(base_config, CELERY_RESULT_BACKEND="rpc://"))
    celery = app.extensions["celery"]
    queue = f"portal-test-{secrets.token_hex(4)}"
    celery.conf.task_default_queue = queue
    yield app, celery, queue
    with app.app_context(), db.session_scope() as session:
        session.execute(AuditEntry.__table__.delete().where(
            AuditEntry.action.in_(["test.ancient", "audit.purge"])))
    app.extensions["portal_db"].engine.dispose()


def test_worker_on_rabbitmq_purges_old_audit_entries(worker_app):
    app, celery, queue = worker_app
    with app.app_context(), db.session_scope() as session:
        entry = audit.record(session=session, action="test.ancient", actor_email="t@test.example")
        entry.at = utcnow() - timedelta(days=app.config["AUDIT_RETENTION_DAYS"] + 1)
    with start_worker(celery, pool="solo", perform_ping_check=False, queues=[queue],
                      shutdown_timeout=60,
                      loglevel="WARNING"):
        removed = purge_audit_log.apply_async(queue=queue).get(timeout=30)
    assert removed >= 1
    with app.app_context(), db.session_scope() as session:
        assert session.scalars(select(AuditEntry).where(AuditEntry.action == "test.ancient")).all() == []
        purge = session.scalars(select(AuditEntry).where(AuditEntry.action == "audit.purge")).all()
        assert purge and purge[-1].details["removed"] >= 1


def test_beat_schedule_includes_the_audit_purge(app):
    schedule = app.extensions["celery"].conf.beat_schedule
    assert schedule["purge-audit-log"]["task"] == "portal.auth.tasks.purge_audit_log"
