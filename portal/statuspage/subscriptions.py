"""Subscriptions to a tenant's status page and the notices they receive.

Subscribing sends a confirmation link through the chosen channel; only confirmed
subscriptions are told anything, and every message carries an unsubscribe link. Links are
signed tokens (itsdangerous), so they work for people without a portal account.

A notice is a row keyed by (subscription, event): a component's state change or one
published incident update. Rows are inserted with ON CONFLICT DO NOTHING, so two ticks or
two workers that see the same event produce one message; delivery then claims pending rows
with SKIP LOCKED, as the on-call notifications do.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from portal.db import utcnow
from portal.integrations import smtp
from portal.security import inputs, outbound
from portal.statuspage import states
from portal.statuspage.models import CHANNELS, ComponentState, Notice, Subscription
from portal.statuspage.service import StatusPage
from portal.tenants.models import Tenant

CONFIRM_MAX_AGE = 7 * 24 * 3600
MAX_TARGET = 500


@dataclass(frozen=True)
class Channels:
    secret_key: str
    link_base: str
    relay: smtp.Relay | None = None  # None: e-mail disabled (SMTP_HOST unset)
    timeout: float = 5.0
    allowed_hosts: tuple[str, ...] = ()
    max_attempts: int = 3

    @classmethod
    def from_config(cls, config) -> Channels:
        """The channels of the app config: SECRET_KEY, PUBLIC_BASE_URL, SMTP_* and the
        outbound allowlist."""
        return cls(config["SECRET_KEY"], config["PUBLIC_BASE_URL"].rstrip("/"),
                   smtp.Relay.from_config(config),
                   allowed_hosts=tuple(config["OUTBOUND_ALLOWED_HOSTS"] or ()))


def _serializer(secret_key: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt="statuspage-subscription")


def make_token(secret_key: str, *, subscription_id: int, action: str) -> str:
    """A signed token allowing `action` ('confirm' or 'unsubscribe') on one subscription."""
    return _serializer(secret_key).dumps({"s": subscription_id, "a": action})


def read_token(secret_key: str, token: str, *, action: str) -> int:
    """The subscription id of a valid token for `action`; ValueError with the reason."""
    try:
        # Unsubscribe links must keep working in old e-mails; confirmations expire.
        data = _serializer(secret_key).loads(
            token[:1000], max_age=CONFIRM_MAX_AGE if action == "confirm" else None)
    except SignatureExpired as exc:
        raise ValueError("This confirmation link has expired; subscribe again.") from exc
    except BadSignature as exc:
        raise ValueError("This link is not valid.") from exc
    if not isinstance(data, dict) or data.get("a") != action or not isinstance(data.get("s"), int):
        raise ValueError("This link is not valid.")
    return data["s"]


def _check_target(channel: str, target: str, allowed_hosts) -> str:
    target = (target or "").strip()
    if channel not in CHANNELS:
        raise ValueError("Choose e-mail or webhook.")
    if not target or len(target) > MAX_TARGET:
        raise ValueError(f"Give an address of 1 to {MAX_TARGET} characters.")
    if channel == "email":
        if not inputs.is_email(target):
            raise ValueError("That is not a valid e-mail address.")
        return target.lower()
    try:
        outbound.vet(target, allowlist=allowed_hosts)
    except outbound.OutboundError as exc:
        raise ValueError(f"The webhook URL {exc}.") from exc
    return target


def _links(channels: Channels, subscription: Subscription) -> dict[str, str]:
    def link(action: str) -> str:
        return (f"{channels.link_base}/status/subscriptions/{action}/"
                + make_token(channels.secret_key, subscription_id=subscription.id,
                             action=action))
    return {"confirm_url": link("confirm"), "unsubscribe_url": link("unsubscribe")}


def _queue(session: Session, subscription: Subscription, event_key: str, payload: dict,
           now: datetime) -> bool:
    inserted = session.execute(
        insert(Notice).values(subscription_id=subscription.id, event_key=event_key[:200],
                              status="pending", attempts=0, payload=payload, created_at=now)
        .on_conflict_do_nothing(constraint="uq_statuspage_notices_event")
        .returning(Notice.id)).scalar()
    return inserted is not None


def subscribe(*, session: Session, tenant: Tenant, channel: str, target: str, component: str,
              components: dict[str, str], channels: Channels,
              now: datetime | None = None) -> Subscription:
    """Record a subscription (pending until confirmed) and queue its confirmation link."""
    now = now or utcnow()
    target = _check_target(channel, target, channels.allowed_hosts)
    if component and component not in components:
        raise ValueError("Choose one of the page's components, or all of them.")
    found = session.scalar(select(Subscription).where(
        Subscription.tenant_id == tenant.id, Subscription.channel == channel,
        Subscription.target == target, Subscription.component == component))
    if found is not None and found.unsubscribed_at is None:
        return found  # already pending or active: no second mail to the same address
    sub = found or Subscription(tenant_id=tenant.id, channel=channel, target=target,
                                component=component)
    sub.confirmed_at = sub.unsubscribed_at = None
    session.add(sub)
    session.flush()
    scope = components.get(component, "all components")
    links = _links(channels, sub)
    text = (f"Confirm your subscription to {tenant.name}'s status ({scope}): "
            f"{links['confirm_url']}")
    _queue(session, sub, f"confirm:{now.isoformat()}",
           {"event": "subscription.confirm", "subject": f"Confirm: {tenant.name} status",
            "text": text, **links}, now)
    return sub


def confirm(*, session: Session, subscription_id: int, now: datetime | None = None
            ) -> Subscription | None:
    """Mark a pending subscription confirmed; None when it is gone or unsubscribed."""
    sub = session.get(Subscription, subscription_id)
    if sub is None or sub.unsubscribed_at is not None:
        return None
    sub.confirmed_at = sub.confirmed_at or now or utcnow()
    return sub


def unsubscribe(*, session: Session, subscription_id: int, now: datetime | None = None
                ) -> Subscription | None:
    """End a subscription (idempotent); None when it does not exist."""
    sub = session.get(Subscription, subscription_id)
    if sub is not None and sub.unsubscribed_at is None:
        sub.unsubscribed_at = now or utcnow()
    return sub


def _active(session: Session, tenant_id: int) -> list[Subscription]:
    return list(session.scalars(select(Subscription).where(
        Subscription.tenant_id == tenant_id, Subscription.confirmed_at.is_not(None),
        Subscription.unsubscribed_at.is_(None)).order_by(Subscription.id)))


def _state_changes(session: Session, status: StatusPage, now: datetime):
    told = {row.service_slug: row for row in session.scalars(
        select(ComponentState).where(ComponentState.tenant_id == status.tenant.id)
        .with_for_update())}
    for component in status.components:
        row = told.get(component.slug)
        if row is None:  # first look: nothing changed that anyone was told about
            session.add(ComponentState(tenant_id=status.tenant.id, service_slug=component.slug,
                                       state=component.state, changed_at=now))
            continue
        if row.state != component.state:
            key = f"state:{component.slug}:{row.changed_at.isoformat()}:{component.state}"
            yield key, component, row.state
            row.state, row.changed_at = component.state, now


def enqueue_events(*, session: Session, status: StatusPage, channels: Channels,
                   now: datetime | None = None) -> int:
    """Queue a notice per active subscriber for each component state change and each
    published update of the page's incidents; returns how many new notices were queued."""
    now = now or utcnow()
    subs = _active(session, status.tenant.id)
    queued = 0
    for key, component, before in list(_state_changes(session, status, now)):
        text = (f"{status.tenant.name} status: {component.name} is now {component.label} "
                f"(was {states.LABELS[before]}).")
        for sub in subs:
            if sub.component in ("", component.slug):
                queued += _queue(session, sub, key, {
                    "event": "component.update", "subject": f"{component.name}: {component.label}",
                    "text": text, "component": component.slug, "status": component.state,
                    "unsubscribe_url": _links(channels, sub)["unsubscribe_url"]}, now)
    for incident in status.incidents:
        reached = set(status.affected.get(incident.id, ()))
        for update in status.updates.get(incident.id, ()):
            for sub in subs:
                # (_active() reads confirmed subscriptions only)
                if (sub.confirmed_at is not None and sub.confirmed_at > update.created_at) or (
                        sub.component and sub.component not in reached):
                    continue
                queued += _queue(session, sub, f"update:{update.id}", {
                    "event": "incident.update", "subject": f"[{incident.status}] {incident.title}",
                    "text": f"{incident.title} ({incident.status}): {update.message}",
                    "incident": incident.id, "status": update.status,
                    "unsubscribe_url": _links(channels, sub)["unsubscribe_url"]}, now)
    session.flush()
    return queued


def _send(notice: Notice, channels: Channels) -> None:
    sub, payload = notice.subscription, notice.payload
    if sub.channel == "webhook":
        outbound.post_json(sub.target, payload, timeout=channels.timeout,
                           allowlist=channels.allowed_hosts)
        return
    if channels.relay is None:
        raise smtp.MailUnavailable("e-mail is not configured (SMTP_HOST is unset)")
    link = payload.get("unsubscribe_url")
    body = payload["text"] + (f"\n\nUnsubscribe: {link}" if link else "")
    smtp.send(smtp.message(relay=channels.relay, to=sub.target, subject=payload["subject"],
                           body=body), relay=channels.relay)


def deliver_due(*, session: Session, channels: Channels, now: datetime | None = None,
                limit: int = 100) -> int:
    """Send pending notices (claimed with SKIP LOCKED); returns how many were tried."""
    now = now or utcnow()
    due = list(session.scalars(
        select(Notice).where(Notice.status == "pending").order_by(Notice.id).limit(limit)
        .with_for_update(skip_locked=True, of=Notice)))
    for notice in due:
        if notice.subscription.unsubscribed_at is not None:
            notice.status, notice.last_error = "failed", "unsubscribed"
            continue
        notice.attempts += 1
        try:
            _send(notice, channels)
        except (smtp.MailUnavailable, outbound.OutboundError, OSError) as exc:
            notice.last_error = f"{type(exc).__name__}: {exc}"[:500]
            if notice.attempts >= channels.max_attempts:  # else the next tick tries again
                notice.status = "failed"
            continue
        notice.status, notice.sent_at, notice.last_error = "sent", now, None
    session.flush()
    return len(due)


def for_tenant(*, session: Session, tenant_id: int) -> list[Subscription]:
    """A tenant's subscriptions, newest first."""
    return list(session.scalars(select(Subscription).where(
        Subscription.tenant_id == tenant_id).order_by(Subscription.id.desc())))


def tenants_with_subscribers(*, session: Session) -> list[Tenant]:
    """Tenants that have at least one confirmed, active subscription."""
    active = (select(Subscription.tenant_id).where(Subscription.confirmed_at.is_not(None),
                                                   Subscription.unsubscribed_at.is_(None)))
    return list(session.scalars(select(Tenant).where(Tenant.id.in_(active))
                                .order_by(Tenant.id)))
