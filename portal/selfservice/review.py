"""Deciding on a job that waits for approval: every approval or rejection says why.

The comment is kept with the decision, shown on the job page and on the service's
timeline, and sent to the requester; approvers hear about a waiting job as soon as its
plan is ready (portal.selfservice.notifications).
"""
from __future__ import annotations

import unicodedata

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.auth.models import User
from portal.selfservice import notifications, service
from portal.selfservice.models import DECISIONS, Job, JobDecision

MAX_COMMENT = 2000


class InvalidDecision(ValueError):
    """The decision or its comment was refused; the message says why, for the user."""


def clean_comment(raw: str | None) -> str:
    """The comment as stored: trimmed, required, bounded, without control characters."""
    text = (raw or "").strip()
    if not text:
        raise InvalidDecision("Say why: a comment is required to approve or reject.")
    if len(text) > MAX_COMMENT:
        raise InvalidDecision(f"Keep the comment to {MAX_COMMENT} characters "
                              f"(it has {len(text)}).")
    if any(unicodedata.category(c) == "Cc" and c not in "\n\r\t" for c in text):
        raise InvalidDecision("The comment contains control characters.")
    return text


def decide(*, session: Session, job: Job, user: User, decision: str | None,
           comment: str | None) -> JobDecision:
    """Approve or reject `job` with a comment; the requester is told after commit.

    Raises InvalidDecision for a missing or bad comment, service.Refused when the job or
    the user may not be decided on.
    """
    if decision not in DECISIONS:
        raise InvalidDecision("Decide approve or reject.")
    text = clean_comment(comment)
    if decision == "approve":
        service.approve(session=session, job=job, approver=user, comment=text)
    else:
        service.reject(session=session, job=job, user=user, comment=text)
    row = JobDecision(job_id=job.id, decision=decision, comment=text, decided_by=user)
    session.add(row)
    session.flush()
    notifications.decided(session=session, job=job, decision=decision, comment=text, by=user,
                          channels=notifications.Channels.from_config(current_app.config))
    return row


def awaiting_approval(*, session: Session, job: Job) -> list[int]:
    """Tell the approvers that `job` waits for them (called when its plan is ready)."""
    return notifications.approval_needed(
        session=session, job=job, channels=notifications.Channels.from_config(current_app.config))


def decisions_of(*, session: Session, job: Job) -> list[JobDecision]:
    """The decisions taken on a job, oldest first."""
    return list(session.scalars(select(JobDecision).where(JobDecision.job_id == job.id)
                                .order_by(JobDecision.decided_at, JobDecision.id)))
