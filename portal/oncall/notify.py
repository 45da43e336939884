"""Notification channels for pages: a Slack-compatible webhook and e-mail through the
portal's one SMTP client (portal.integrations.smtp, configured by the portal-wide SMTP_*
settings); signed ack/resolve links start at PUBLIC_BASE_URL.

Notifications are rows created in the paging transaction and delivered afterwards by the
paging engine's tick, so a page is never lost to a crash between the commit and the send.
A failed attempt is recorded with its error and retried with backoff up to a bound; after
that the notification is `failed` and shown on the page, never swallowed.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.auth.models import User
from portal.db import utcnow
from portal.integrations import smtp
from portal.oncall.models import Notification, Page
from portal.security import outbound

ACTION_MAX_AGE = 24 * 3600
BACKOFF = (timedelta(seconds=30), timedelta(minutes=2), timedelta(minutes=10))


@dataclass(frozen=True)
class Channels:
    secret_key: str
    link_base: str
    webhook_url: str | None = None
    relay: smtp.Relay | None = None  # None: e-mail disabled (SMTP_HOST unset)
    max_attempts: int = 3
    timeout: float = 5.0  # per webhook attempt; SMTP attempts use the relay's SMTP_TIMEOUT
    allowed_hosts: tuple[str, ...] = ()  # internal webhook hosts deliberately allowed

    @classmethod
    def from_config(cls, config) -> Channels:
        """The channels of the app config: PUBLIC_BASE_URL, SMTP_* and ONCALL_NOTIFY_*."""
        return cls(config["SECRET_KEY"], config["PUBLIC_BASE_URL"].rstrip("/"),
                   config["ONCALL_NOTIFY_WEBHOOK_URL"], smtp.Relay.from_config(config),
                   config["ONCALL_NOTIFY_MAX_ATTEMPTS"], config["ONCALL_NOTIFY_TIMEOUT"],
                   tuple(config["OUTBOUND_ALLOWED_HOSTS"] or ()))

    @property
    def names(self) -> list[str]:
        return [n for n, on in (("webhook", self.webhook_url), ("email", self.relay)) if on]


def _serializer(secret_key: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt="oncall-page-action")


def action_token(secret_key: str, *, page_id: int, user_id: int) -> str:
    """A signed token letting `user_id` ack or resolve `page_id` from a notification."""
    return _serializer(secret_key).dumps({"page": page_id, "user": user_id})


def read_action_token(secret_key: str, token: str) -> tuple[int, int]:
    """(page_id, user_id) of a valid token; raises ValueError with a readable reason."""
    try:
        data = _serializer(secret_key).loads(token, max_age=ACTION_MAX_AGE)
    except SignatureExpired as exc:
        raise ValueError("This link has expired; open the page in the portal instead.") from exc
    except BadSignature as exc:
        raise ValueError("This link is not valid.") from exc
    return int(data["page"]), int(data["user"])


def enqueue(*, session: Session, page: Page, user: User, why: str, channels: Channels,
            now: datetime) -> list[Notification]:
    """Queue one notification per configured channel telling `user` about `page`."""
    link = f"{channels.link_base}/oncall/pages/act/" + action_token(
        channels.secret_key, page_id=page.id, user_id=user.id)
    text = (f"[{page.severity.upper()}] {page.title} — {why}. "
            f"Acknowledge or resolve: {link}")
    out = []
    for channel in channels.names:
        payload = {"text": text, "to": user.email, "subject": f"[{page.severity.upper()}] "
                   f"{page.title}", "link": link}
        if page.schedule and page.schedule.team and page.schedule.team.chat_channel:
            payload["channel"] = page.schedule.team.chat_channel
        note = Notification(page_id=page.id, user=user, channel=channel, next_attempt_at=now,
                            payload=payload)
        session.add(note)
        out.append(note)
    session.flush()
    return out


def send_webhook(url: str, payload: dict, timeout: float,
                 allowed_hosts: tuple[str, ...] = ()) -> None:
    """POST a Slack-compatible message to a vetted public address; raises OutboundError."""
    body = {"text": payload["text"]}
    if "channel" in payload:
        body["channel"] = payload["channel"]
    outbound.post_json(url, body, timeout=timeout, allowlist=allowed_hosts)


def send_email(relay: smtp.Relay, payload: dict) -> None:
    """Send the page through the portal's SMTP relay; raises MailUnavailable on failure."""
    smtp.send(smtp.message(relay=relay, to=payload["to"], subject=payload["subject"],
                           body=payload["text"]), relay=relay)


def deliver(*, notification: Notification, channels: Channels, now: datetime) -> None:
    """Attempt one notification once, recording success, or the error and the next try."""
    notification.attempts += 1
    try:
        if notification.channel == "webhook":
            send_webhook(channels.webhook_url, notification.payload, channels.timeout,
                         channels.allowed_hosts)
        else:
            send_email(channels.relay, notification.payload)
    except (smtp.MailUnavailable, outbound.OutboundError, OSError) as exc:
        notification.last_error = f"{type(exc).__name__}: {exc}"[:500]
        if notification.attempts >= channels.max_attempts:
            notification.status = "failed"
        else:
            notification.next_attempt_at = now + BACKOFF[min(notification.attempts - 1,
                                                             len(BACKOFF) - 1)]
        return
    notification.status, notification.sent_at, notification.last_error = "sent", now, None


def deliver_due(*, session: Session, channels: Channels, now: datetime | None = None,
                limit: int = 100) -> int:
    """Deliver the pending notifications whose next attempt is due; returns how many tried."""
    now = now or utcnow()
    due = list(session.scalars(
        select(Notification).where(Notification.status == "pending",
                                   Notification.next_attempt_at <= now)
        .order_by(Notification.id).limit(limit)
        .with_for_update(skip_locked=True, of=Notification)))
    for notification in due:
        if notification.channel not in channels.names:
            notification.status, notification.last_error = "failed", "channel not configured"
            continue
        deliver(notification=notification, channels=channels, now=now)
    session.flush()
    return len(due)


def for_page(*, session: Session, page: Page) -> list[Notification]:
    """A page's notifications, oldest first."""
    return list(session.scalars(select(Notification).where(Notification.page_id == page.id)
                                .order_by(Notification.id)))
