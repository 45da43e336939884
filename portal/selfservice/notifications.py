"""Telling people about approvals: approvers when a job waits for them, the requester when
it was decided (with the approver's comment).

Messages are rows written in the transaction that changed the job, and sent only after it
commits (portal.selfservice.dispatch), by e-mail through the portal's SMTP client and to
a Slack-compatible webhook through the SSRF-guarded outbound client. A message that
could not be sent stays pending and the beat task tries it again, up to a bound; a
message is claimed with a row lock, so two workers never send it twice.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from portal.auth.models import User
from portal.db import utcnow
from portal.integrations import smtp
from portal.security import outbound
from portal.selfservice import dispatch
from portal.selfservice.models import Job, JobNotification

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Channels:
    link_base: str
    relay: smtp.Relay | None = None  # None: e-mail disabled (SMTP_HOST unset)
    webhook_url: str | None = None
    allowed_hosts: tuple[str, ...] = ()
    max_attempts: int = 3
    timeout: float = 5.0

    @classmethod
    def from_config(cls, config) -> Channels:
        """The channels of the app config: PUBLIC_BASE_URL, SMTP_* and SELFSERVICE_NOTIFY_*."""
        return cls(config["PUBLIC_BASE_URL"].rstrip("/"), smtp.Relay.from_config(config),
                   config["SELFSERVICE_NOTIFY_WEBHOOK_URL"],
                   tuple(config["OUTBOUND_ALLOWED_HOSTS"] or ()),
                   config["SELFSERVICE_NOTIFY_MAX_ATTEMPTS"])


def _what(job: Job) -> str:
    target = job.params.get("service") or job.params.get("name") or job.params.get("group")
    return f"{job.template.replace('-', ' ')} ({job.action}) of {target} to {job.tier}"


def approval_needed(*, session: Session, job: Job, channels: Channels) -> list[int]:
    """Queue the messages asking every manager but the requester to decide on `job`."""
    approvers = session.scalars(select(User).where(
        # ARRAY's any(); SQLAlchemy's stubs only know the relationship any(criterion).
        User.roles.any("manager"),  # type: ignore[arg-type]
        User.is_active.is_(True), User.id != job.requested_by_id)
        .order_by(User.id)).all()
    link = f"{channels.link_base}/selfservice/jobs/{job.id}"
    subject = f"Approval needed: {_what(job)}"
    body = (f"{job.requested_by.email} asks for {_what(job)}. The plan is ready; review it "
            f"and approve or reject it with a comment: {link}")
    return _queue(session, job, "approval_needed", subject, body,
                  [a.email for a in approvers], channels)


def decided(*, session: Session, job: Job, decision: str, comment: str, by: User,
            channels: Channels) -> list[int]:
    """Queue the messages telling the requester how `by` decided on `job`, and why."""
    verb = "approved" if decision == "approve" else "rejected"
    link = f"{channels.link_base}/selfservice/jobs/{job.id}"
    subject = f"Your request was {verb}: {_what(job)}"
    body = f"{by.email} {verb} {_what(job)}.\n\nComment: {comment}\n\n{link}"
    return _queue(session, job, verb, subject, body, [job.requested_by.email], channels)


def _queue(session: Session, job: Job, event: str, subject: str, body: str,
           emails: list[str], channels: Channels) -> list[int]:
    rows = []
    if channels.relay is not None:
        rows += [{"channel": "email", "recipient": email} for email in emails]
    if channels.webhook_url:
        rows.append({"channel": "webhook", "recipient": "webhook"})
    if not rows:
        return []
    ids = list(session.scalars(
        insert(JobNotification).values([
            {**row, "job_id": job.id, "event": event, "subject": subject[:300], "body": body,
             "status": "pending", "attempts": 0} for row in rows])
        .on_conflict_do_nothing(constraint="uq_selfservice_notifications_once")
        .returning(JobNotification.id)))
    dispatch.schedule_notifications(session=session, notification_ids=ids)
    return ids


def deliver(*, session: Session, channels: Channels, ids: list[int] | None = None,
            now: datetime | None = None, limit: int = 100) -> int:
    """Send pending messages (these `ids`, or any), each claimed by a row lock; how many tried."""
    query = select(JobNotification).where(JobNotification.status == "pending")
    if ids is not None:
        query = query.where(JobNotification.id.in_(ids))
    due = session.scalars(query.order_by(JobNotification.id).limit(limit)
                          .with_for_update(skip_locked=True)).all()
    for note in due:
        _attempt(note, channels, now or utcnow())
    session.flush()
    return len(due)


def _attempt(note: JobNotification, channels: Channels, now: datetime) -> None:
    note.attempts += 1
    try:
        if note.channel == "webhook":
            if not channels.webhook_url:
                raise outbound.OutboundError("no webhook is configured")
            outbound.post_json(channels.webhook_url, {"text": f"{note.subject}\n{note.body}"},
                               timeout=channels.timeout, allowlist=channels.allowed_hosts)
        else:
            if channels.relay is None:
                raise smtp.MailUnavailable("no SMTP relay is configured")
            smtp.send(smtp.message(relay=channels.relay, to=note.recipient,
                                   subject=note.subject, body=note.body), relay=channels.relay)
    except (smtp.MailUnavailable, outbound.OutboundError, OSError) as exc:
        log.warning("notification %s via %s failed: %s", note.id, note.channel, exc)
        note.last_error = f"{type(exc).__name__}: {exc}"[:500]
        if note.attempts >= channels.max_attempts:
            note.status = "failed"
        return
    note.status, note.sent_at, note.last_error = "sent", now, None


def for_job(*, session: Session, job: Job) -> list[JobNotification]:
    """A job's notifications, oldest first."""
    return list(session.scalars(select(JobNotification)
                                .where(JobNotification.job_id == job.id)
                                .order_by(JobNotification.id)))
