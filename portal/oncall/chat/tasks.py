"""Chat delivery tasks: right after a commit (ids from the after_commit hook) and a beat
tick that sends whatever is due (retries, and ids whose task was lost)."""
from __future__ import annotations

from celery import shared_task
from flask import current_app

from portal.extensions import db
from portal.oncall.chat import delivery
from portal.oncall.chat.settings import ChatConfig

BEAT_SCHEDULE = {
    "oncall-chat-tick": {"task": "portal.oncall.chat.tasks.chat_tick", "schedule": 20.0},
}


@shared_task(name="portal.oncall.chat.tasks.deliver")
def deliver(ids: list[int]) -> dict:
    """Send the messages a transaction just committed."""
    config = ChatConfig.from_config(current_app.config)
    with db.session_scope() as session:
        tried = delivery.deliver_due(session=session, config=config,
                                     ids=[int(i) for i in ids][:200])
    return {"tried": tried}


@shared_task(name="portal.oncall.chat.tasks.chat_tick")
def chat_tick() -> dict:
    """Send the chat messages whose next attempt is due."""
    config = ChatConfig.from_config(current_app.config)
    with db.session_scope() as session:
        tried = delivery.deliver_due(session=session, config=config)
    return {"tried": tried}
