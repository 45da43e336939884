"""Notification channels for pages: a Slack-compatible webhook, e-mail through the
portal's one SMTP client (portal.integrations.smtp, configured by the portal-wide SMTP_*
settings), and SMS and phone calls through the phone provider
(portal.integrations.phone) when one is configured; signed ack/resolve links start at
PUBLIC_BASE_URL.

Who gets what, when, follows the person's notification rules (portal.oncall.rules): each
rule and each of its repeats becomes one row due at its own moment, held past the person's
quiet hours unless the page is important. Someone without rules gets today's one
notification per configured channel at once. Acknowledging a page cancels its rows that
are still pending, and a row of a page no longer triggered is never sent.

Notifications are rows created in the paging transaction and delivered afterwards, so a
page is never lost to a crash between the commit and the send: a new page's first ones by
a task sent once that transaction commits (`send_after_commit`), everything else (later
steps, retries, and whatever that task could not send) by the paging engine's tick. A row
is claimed with FOR UPDATE SKIP LOCKED and leaves `pending` when attempted, so the task
and a tick running at the same moment never send it twice.
A failed attempt is recorded with its error and retried with backoff up to a bound; after
that the notification is `failed` and shown on the page, never swallowed.
"""
from __future__ import annotations

import importlib
import importlib.util
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app, has_app_context
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from portal import jobs
from portal.auth.models import User
from portal.db import utcnow
from portal.integrations import smtp
from portal.oncall import rule_service, rules
from portal.oncall.models import Notification, Page
from portal.security import outbound

log = logging.getLogger(__name__)
ACTION_MAX_AGE = 24 * 3600
BACKOFF = (timedelta(seconds=30), timedelta(minutes=2), timedelta(minutes=10))
PHONE_MODULE = "portal.integrations.phone"
# A rule's channel -> the notification channel that carries it ('chat' is the team chat
# webhook).
RULE_TO_CHANNEL = {"email": "email", "sms": "sms", "voice": "voice", "chat": "webhook"}
SEND_KEY = "oncall_pages_to_send"
SEND_TASK = "portal.oncall.tasks.send_first_notifications"


def phone_module():
    """The phone integration, or None where it is not installed. A broken module is not
    hidden: only its absence is."""
    if importlib.util.find_spec(PHONE_MODULE) is None:
        return None
    return importlib.import_module(PHONE_MODULE)


def phone_errors() -> tuple[type[Exception], ...]:
    """The exceptions a phone provider raises for a failed SMS or call."""
    module = phone_module()
    return (module.PhoneError,) if module is not None else ()


def _phone_provider(config) -> tuple[Any | None, str | None]:
    """(provider, why there is none). A half-configured provider is logged and reported
    on the test page rather than raised: a settings mistake must not stop e-mail and chat
    pages, which are built from the same channels."""
    module = phone_module()
    if module is None:
        return None, "the phone integration is not installed"
    try:
        provider = module.provider_from_config(config)
    except module.PhoneError as exc:
        log.error("phone provider misconfigured, no SMS or calls: %s", exc)
        return None, str(exc)
    return provider, None if provider is not None else "no phone provider is configured"


@dataclass(frozen=True)
class Channels:
    secret_key: str
    link_base: str
    webhook_url: str | None = None
    relay: smtp.Relay | None = None  # None: e-mail disabled (SMTP_HOST unset)
    max_attempts: int = 3
    timeout: float = 5.0  # per webhook attempt; SMTP attempts use the relay's SMTP_TIMEOUT
    allowed_hosts: tuple[str, ...] = ()  # internal webhook hosts deliberately allowed
    # send_sms(*, to, body) -> id and call(*, to, message) -> id; None: no SMS or calls.
    phone: Any | None = None
    phone_problem: str | None = None  # why there is no phone provider, for the test page

    @classmethod
    def from_config(cls, config) -> Channels:
        """The channels of the app config: PUBLIC_BASE_URL, SMTP_*, ONCALL_NOTIFY_* and the
        phone provider's settings."""
        return cls(config["SECRET_KEY"], config["PUBLIC_BASE_URL"].rstrip("/"),
                   config["ONCALL_NOTIFY_WEBHOOK_URL"], smtp.Relay.from_config(config),
                   config["ONCALL_NOTIFY_MAX_ATTEMPTS"], config["ONCALL_NOTIFY_TIMEOUT"],
                   tuple(config["OUTBOUND_ALLOWED_HOSTS"] or ()), *_phone_provider(config))

    @property
    def names(self) -> list[str]:
        return [n for n, on in (("webhook", self.webhook_url), ("email", self.relay),
                                ("sms", self.phone), ("voice", self.phone)) if on]


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
            now: datetime, important: bool = False) -> list[Notification]:
    """Queue the notifications telling `user` about `page`, following the person's rules
    (important rules for an important page); without usable rules, one per configured
    channel at once. `important` is kept in every payload."""
    link = f"{channels.link_base}/oncall/pages/act/" + action_token(
        channels.secret_key, page_id=page.id, user_id=user.id)
    severity = page.severity.upper()
    base = {"text": f"[{severity}] {page.title} — {why}. Acknowledge or resolve: {link}",
            "to": user.email, "subject": f"[{severity}] {page.title}", "link": link,
            "important": important,
            # Spoken by the phone call: a link cannot be read out.
            "spoken": f"Meridian page, {page.severity}: {page.title}. {why}. "
                      "Acknowledge it in the portal."}
    if page.schedule and page.schedule.team and page.schedule.team.chat_channel:
        base["channel"] = page.schedule.team.chat_channel
    plan = rule_service.plan_for(session=session, user=user)
    rows = _rule_rows(plan, channels, now=now, important=important) or [
        (channel, now, {}) for channel in channels.names
        if channel not in rule_service.PHONE_CHANNELS or plan.phone]
    out = []
    for channel, due, extra in rows:
        payload = {**base, **extra}
        if channel in rule_service.PHONE_CHANNELS:
            payload["phone"] = plan.phone
        note = Notification(page_id=page.id, user=user, channel=channel, next_attempt_at=due,
                            payload=payload)
        session.add(note)
        out.append(note)
    session.flush()
    return out


def _rule_rows(plan: rule_service.Plan, channels: Channels, *, now: datetime,
               important: bool) -> list[tuple[str, datetime, dict]]:
    """(channel, due, payload extras) of each attempt of the person's rules that a
    configured channel can carry (SMS and calls also need the person's phone)."""
    chosen, bypass = plan.rules_for(important=important)
    usable = [r for r in chosen if RULE_TO_CHANNEL[r.channel] in channels.names
              and (r.channel not in rule_service.PHONE_CHANNELS or plan.phone)]
    attempts = rules.expand(rules=usable, now=now, zone=plan.zone, quiet=plan.quiet,
                            important=bypass)
    return [(RULE_TO_CHANNEL[a.channel], a.at,
             {"rule": a.rule, "repeat": a.repeat, **({"held": True} if a.held else {})})
            for a in attempts]


def cancel_pending(*, session: Session, page: Page, reason: str = "page acknowledged") -> int:
    """Cancel the page's notifications not yet sent (later rules, repeats, retries);
    returns how many."""
    # Rows a delivery tick holds right now are skipped rather than waited for: a slow
    # provider must not stall the ack, and the tick's next pass cancels any it retries.
    pending = list(session.scalars(select(Notification).where(
        Notification.page_id == page.id, Notification.status == "pending")
        .with_for_update(skip_locked=True, of=Notification)))
    for note in pending:
        note.status, note.last_error = "cancelled", reason
    session.flush()
    return len(pending)


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


def send(channel: str, payload: dict, channels: Channels) -> str | None:
    """Send one message over `channel`, which must be one of `channels.names` (every caller
    checks that first); returns the provider's id for SMS and calls."""
    if channel == "webhook":
        assert channels.webhook_url is not None  # why: "webhook" is in channels.names
        send_webhook(channels.webhook_url, payload, channels.timeout, channels.allowed_hosts)
    elif channel == "email":
        assert channels.relay is not None  # why: "email" is in channels.names
        send_email(channels.relay, payload)
    elif channel == "sms":
        assert channels.phone is not None  # why: "sms" is in channels.names
        return str(channels.phone.send_sms(to=payload["phone"], body=payload["text"]))[:120]
    elif channel == "voice":
        assert channels.phone is not None  # why: "voice" is in channels.names
        return str(channels.phone.call(to=payload["phone"], message=payload["spoken"]))[:120]
    else:
        raise ValueError(f"unknown channel {channel!r}")
    return None


def delivery_errors() -> tuple[type[Exception], ...]:
    """What a failed send raises: recorded and retried, never lost."""
    return (smtp.MailUnavailable, outbound.OutboundError, OSError, *phone_errors())


def deliver(*, notification: Notification, channels: Channels, now: datetime) -> None:
    """Attempt one notification once, recording success, or the error and the next try."""
    notification.attempts += 1
    try:
        notification.provider_ref = send(notification.channel, notification.payload, channels)
    except delivery_errors() as exc:
        notification.last_error = f"{type(exc).__name__}: {exc}"[:500]
        # A message the provider refused (an invalid number) fails now: a retry cannot help.
        if notification.attempts >= channels.max_attempts or not getattr(exc, "transient",
                                                                         True):
            notification.status = "failed"
        else:
            notification.next_attempt_at = now + BACKOFF[min(notification.attempts - 1,
                                                             len(BACKOFF) - 1)]
        return
    notification.status, notification.sent_at, notification.last_error = "sent", now, None


def deliver_due(*, session: Session, channels: Channels, now: datetime | None = None,
                limit: int = 100, page_ids: list[int] | None = None) -> int:
    """Deliver the pending notifications whose next attempt is due (of `page_ids` only, when
    given); returns how many tried."""
    now = now or utcnow()
    which = [Notification.status == "pending", Notification.next_attempt_at <= now]
    if page_ids is not None:
        which.append(Notification.page_id.in_(page_ids))
    # Rows of pages acked or resolved meanwhile (however that happened) are not sent.
    session.execute(
        update(Notification).where(
            *which,
            Notification.page_id.in_(select(Page.id).where(Page.status != "triggered")))
        .values(status="cancelled", last_error="page no longer triggered")
        .execution_options(synchronize_session="fetch"))
    due = list(session.scalars(
        select(Notification).join(Page, Page.id == Notification.page_id)
        .where(*which, Page.status == "triggered")
        .order_by(Notification.id).limit(limit)
        .with_for_update(skip_locked=True, of=Notification)))
    for notification in due:
        if notification.channel not in channels.names:
            notification.status, notification.last_error = "failed", "channel not configured"
            continue
        deliver(notification=notification, channels=channels, now=now)
    session.flush()
    return len(due)


def send_after_commit(*, session: Session, page_id: int) -> None:
    """Have the page's due notifications sent as soon as this session commits (a rollback
    forgets it), instead of waiting for the next paging tick."""
    jobs.after_commit_batch(session, SEND_KEY, page_id, _send_committed)


def _send_committed(page_ids: list[int]) -> None:
    dispatch(page_ids)  # looked up at call time: tests replace it


def dispatch(page_ids: list[int]) -> None:
    """Enqueue the delivery task of committed pages; the paging tick sends what is left."""
    if not has_app_context() or "celery" not in current_app.extensions:
        return
    try:
        # No publish retries: the webhook request that opened the page waits for this,
        # and the tick sends the rows anyway.
        current_app.extensions["celery"].send_task(SEND_TASK, args=[sorted(set(page_ids))],
                                                   retry=False)
    except Exception:  # the rows are committed: the tick delivers them
        log.warning("could not enqueue the first notifications of pages %s", page_ids,
                    exc_info=True)


def for_page(*, session: Session, page: Page) -> list[Notification]:
    """A page's notifications, oldest first."""
    return list(session.scalars(select(Notification).where(Notification.page_id == page.id)
                                .order_by(Notification.id)))
