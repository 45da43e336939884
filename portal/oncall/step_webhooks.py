"""Outgoing-webhook escalation steps: queued with the page, POSTed by the paging tick.

The call is a row written in the paging transaction and delivered afterwards, as
notifications are, so a crash between the commit and the send loses nothing and a slow
receiver never holds a page's row locked. The URL goes through `portal.security.outbound`
(public addresses only, unless deliberately allowlisted; no redirects). A failed attempt is
retried with backoff up to the notification bound; the outcome, success or the final
failure, is written on the page's timeline.
"""
from __future__ import annotations

from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.db import utcnow
from portal.oncall import notify
from portal.oncall.escalation_models import StepWebhook
from portal.oncall.models import Page, PageEvent
from portal.security import outbound


def host(url: str) -> str:
    try:
        return urlsplit(url).hostname or "?"
    except ValueError:
        return "?"


def payload(page: Page, position: int, now: datetime) -> dict:
    """What the receiver gets: the page, the step that called, and the alert's labels."""
    return {"event": "escalation_step", "step": position, "pass": page.cycle + 1,
            "at": now.isoformat(),
            "page": {"id": page.id, "title": page.title, "severity": page.severity,
                     "status": page.status, "incident_id": page.incident_id,
                     "created_at": page.created_at.isoformat() if page.created_at else None,
                     "schedule": page.schedule.slug if page.schedule else None},
            "alert_labels": dict(page.alert_labels or {})}


def queue(*, session: Session, page: Page, position: int, url: str | None,
          now: datetime) -> StepWebhook:
    """Queue the step's call; delivered by `deliver_due` on the next tick."""
    row = StepWebhook(page_id=page.id, position=position, url=url or "",
                      payload=payload(page, position, now), next_attempt_at=now)
    session.add(row)
    session.flush()
    return row


def _event(session: Session, row: StepWebhook, kind: str, summary: str, at: datetime) -> None:
    session.add(PageEvent(page_id=row.page_id, at=at, kind=kind, summary=summary[:300]))


def deliver(*, session: Session, row: StepWebhook, channels: notify.Channels,
            now: datetime) -> None:
    """Attempt one call once, recording success, or the error and the next try."""
    row.attempts += 1
    body = {**row.payload,
            "page_url": f"{channels.link_base}/oncall/pages/{row.page_id}"}
    try:
        status = outbound.post_json(row.url, body, timeout=channels.timeout,
                                    allowlist=channels.allowed_hosts)
    except (outbound.OutboundError, OSError) as exc:
        row.last_error = f"{type(exc).__name__}: {exc}"[:500]
        if row.attempts >= channels.max_attempts:
            row.status = "failed"
            _event(session, row, "webhook_failed", f"step {row.position}: webhook to "
                   f"{host(row.url)} failed after {row.attempts} attempts: {exc}", now)
        else:
            row.next_attempt_at = now + notify.BACKOFF[min(row.attempts - 1,
                                                           len(notify.BACKOFF) - 1)]
        return
    row.status, row.sent_at, row.response_status, row.last_error = "sent", now, status, None
    _event(session, row, "webhook_sent", f"step {row.position}: webhook to {host(row.url)} "
           f"answered HTTP {status} (attempt {row.attempts})", now)


def deliver_due(*, session: Session, channels: notify.Channels, now: datetime | None = None,
                limit: int = 50) -> int:
    """Deliver the pending calls whose next attempt is due; returns how many were tried."""
    now = now or utcnow()
    due = list(session.scalars(
        select(StepWebhook).where(StepWebhook.status == "pending",
                                  StepWebhook.next_attempt_at <= now)
        .order_by(StepWebhook.id).limit(limit)
        .with_for_update(skip_locked=True, of=StepWebhook)))
    for row in due:
        deliver(session=session, row=row, channels=channels, now=now)
    session.flush()
    return len(due)


def for_page(*, session: Session, page: Page) -> list[StepWebhook]:
    """A page's webhook calls, oldest first."""
    return list(session.scalars(select(StepWebhook).where(StepWebhook.page_id == page.id)
                                .order_by(StepWebhook.id)))
