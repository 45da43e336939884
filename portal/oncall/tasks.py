"""The paging engine's beat tick: escalate due pages, then deliver due notifications."""
from __future__ import annotations

from celery import shared_task
from flask import current_app

from portal.extensions import db
from portal.oncall import notify, paging

BEAT_SCHEDULE = {
    "oncall-paging-tick": {"task": "portal.oncall.tasks.paging_tick", "schedule": 15.0},
}


@shared_task(name="portal.oncall.tasks.paging_tick")
def paging_tick() -> dict:
    """Escalate unacked pages whose step timed out and send what is due."""
    channels = notify.Channels.from_config(current_app.config)
    with db.session_scope() as session:
        moved = paging.escalate_due(session=session, channels=channels)
    # Delivery in its own transaction: a slow SMTP server never holds the page rows locked.
    with db.session_scope() as session:
        tried = notify.deliver_due(session=session, channels=channels)
    return {"escalated": len(moved), "notifications": tried}
