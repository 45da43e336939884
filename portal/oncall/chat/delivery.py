"""Queue chat messages in the caller's transaction, send them after it commits, retry.

Receivers only add `ChatMessage` rows and note their ids on the session; once the
transaction commits, portal.jobs hands the ids to a Celery task, so a rolled-back page never reaches a
chat. A failed call is recorded on the row (error, attempts, next try with backoff) and
logged; after ONCALL_CHAT_MAX_ATTEMPTS the row is `failed` and shown on the page and the
incident. The beat tick sends whatever is due, so an id lost with a worker is still sent.
"""
from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta

from flask import current_app, has_app_context
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from portal import jobs
from portal.db import utcnow
from portal.oncall.chat import platforms
from portal.oncall.chat.models import ChatMessage, ChatTarget
from portal.oncall.chat.settings import ChatConfig
from portal.oncall.chat.transport import ChatSendError
from portal.oncall.models import Page

KEY = "oncall_chat_to_send"
TASK = "portal.oncall.chat.tasks.deliver"
BACKOFF = (timedelta(seconds=20), timedelta(minutes=1), timedelta(minutes=5),
           timedelta(minutes=15))
WAIT_FOR_PARENT = timedelta(seconds=15)
log = logging.getLogger(__name__)


def _queue(session: Session, message: ChatMessage) -> ChatMessage:
    session.add(message)
    session.flush()
    jobs.after_commit_batch(session, KEY, message.id, _send_queued)
    return message


def queue_page(*, session: Session, page: Page, target: ChatTarget) -> ChatMessage:
    """Post a page to its team's chat (with buttons or signed links)."""
    return _queue(session, ChatMessage(team_id=target.team_id, platform=target.platform,
                                       target=target.target, purpose="page", page_id=page.id,
                                       incident_id=page.incident_id, next_attempt_at=utcnow(),
                                       payload={}))


def queue_updates(*, session: Session, page: Page, kind: str) -> list[ChatMessage]:
    """Edit every chat post of a page to its new state (one pending edit per post)."""
    posts = session.scalars(select(ChatMessage).where(ChatMessage.page_id == page.id,
                                                      ChatMessage.purpose == "page"))
    out = []
    for post in posts:
        pending = session.scalar(select(ChatMessage.id).where(
            ChatMessage.parent_id == post.id, ChatMessage.status == "pending"))
        if pending is not None:
            continue  # that edit renders the page as it is when it is sent
        out.append(_queue(session, ChatMessage(
            team_id=post.team_id, platform=post.platform, target=post.target,
            purpose="update", page_id=page.id, incident_id=page.incident_id, parent_id=post.id,
            next_attempt_at=utcnow(), payload={"kind": kind})))
    return out


def queue_incident(*, session: Session, target: ChatTarget, incident_id: int, title: str,
                   severity: str) -> ChatMessage:
    """Announce a Sev1/Sev2 incident (on Slack: in a channel of its own)."""
    return _queue(session, ChatMessage(
        team_id=target.team_id, platform=target.platform, target=target.target,
        purpose="incident", incident_id=incident_id, next_attempt_at=utcnow(),
        payload={"title": title, "severity": severity}))


def send(ids: list[int]) -> None:
    """Enqueue the delivery of committed messages; the beat tick sends what is left."""
    if not has_app_context() or "celery" not in current_app.extensions:
        return
    try:
        current_app.extensions["celery"].send_task(TASK, args=[ids])
    except Exception:  # the rows are committed: the tick delivers them
        log.warning("could not enqueue chat messages %s", ids, exc_info=True)


def _send_queued(ids: list[int]) -> None:
    send(ids)  # looked up at call time: tests replace it


def deliver_due(*, session: Session, config: ChatConfig, now: datetime | None = None,
                ids: list[int] | None = None, limit: int = 50) -> int:
    """Send the pending messages that are due (or those of `ids`); returns how many tried."""
    now = now or utcnow()
    stmt = select(ChatMessage).where(ChatMessage.status == "pending")
    stmt = stmt.where(ChatMessage.id.in_(ids)) if ids is not None else \
        stmt.where(ChatMessage.next_attempt_at <= now)
    due = list(session.scalars(stmt.order_by(ChatMessage.id).limit(limit)
                               .with_for_update(skip_locked=True, of=ChatMessage)))
    for message in due:
        deliver(session=session, message=message, config=config, now=now)
    session.flush()
    return len(due)


def deliver(*, session: Session, message: ChatMessage, config: ChatConfig,
            now: datetime) -> None:
    """Attempt one message once, recording success, or the error and the next try."""
    message.attempts += 1
    try:
        posted = platforms.dispatch(session=session, message=message, config=config)
    except platforms.NotYet:
        message.attempts -= 1  # its post is still on its way: not a failed attempt
        message.next_attempt_at = now + WAIT_FOR_PARENT
        return
    except ChatSendError as exc:
        _failed(message, str(exc), config, now)
        return
    except Exception as exc:  # a bug must not lose the message silently either
        log.exception("chat message %s: unexpected error", message.id)
        _failed(message, f"internal error ({type(exc).__name__})", config, now)
        return
    message.status, message.sent_at, message.last_error = "sent", now, None
    if posted is not None:
        message.remote_id = posted.remote_id or message.remote_id
        message.remote_channel = posted.channel or message.remote_channel
        message.link = posted.link or message.link


def _failed(message: ChatMessage, error: str, config: ChatConfig, now: datetime) -> None:
    message.last_error = error[:500]
    if message.attempts >= config.max_attempts:
        message.status = "failed"
        log.error("chat message %s (%s, %s) failed for good after %s attempts: %s",
                  message.id, message.platform, message.purpose, message.attempts, error)
    else:
        message.next_attempt_at = now + BACKOFF[min(message.attempts - 1, len(BACKOFF) - 1)]
        log.warning("chat message %s (%s) attempt %s failed: %s", message.id,
                    message.platform, message.attempts, error)


def for_page(*, session: Session, page_id: int) -> list[ChatMessage]:
    """A page's chat messages, oldest first."""
    return list(session.scalars(select(ChatMessage).where(ChatMessage.page_id == page_id)
                                .order_by(ChatMessage.id)))


def for_incident(*, session: Session, incident_id: int, page_ids: Sequence[int] | None = None
                 ) -> list[ChatMessage]:
    """An incident's chat messages and those of its pages, oldest first. Without
    `page_ids` the incident's pages are found in the same statement (the incident page
    needs only their messages, not the pages)."""
    cond = ChatMessage.incident_id == incident_id
    if page_ids is None:
        cond = or_(cond, ChatMessage.page_id.in_(
            select(Page.id).where(Page.incident_id == incident_id)))
    elif page_ids:
        cond = or_(cond, ChatMessage.page_id.in_(list(page_ids)))
    return list(session.scalars(select(ChatMessage).where(cond).order_by(ChatMessage.id)))
