"""Sending a notification: dedupe, rate limit, render, deliver, and log every outcome."""
from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.engine import Connection, Engine

from platform_services.common import addresses, outbound, security_events
from platform_services.common.app import ApiError
from platform_services.common.observability import Metrics
from platform_services.notification import rendering, sms
from platform_services.notification.channels import (
    DeliveryFailed,
    SmtpRelays,
    TargetRefused,
    post_webhook,
)
from platform_services.notification.limits import Limits
from platform_services.notification.models import CHANNELS, contacts, notifications, templates
from platform_services.notification.settings import NotificationSettings

log = logging.getLogger(__name__)
URL = re.compile(r"^https?://[^\s/?#]+[^\s]{0,2000}$")
PHONE = re.compile(r"^\+[1-9][0-9]{6,14}$")  # E.164, as SMS providers take it
# What `to` must be for each channel, and how a 422 describes it.
RECIPIENTS: dict[str, tuple[Callable[[str], object], str]] = {
    "email": (addresses.is_email, "an e-mail address"),
    "webhook": (URL.match, "an http(s) URL"),
    "sms": (PHONE.match, "an E.164 phone number (+ and 7 to 15 digits)")}
NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
DEDUPE = re.compile(r"^[A-Za-z0-9._:-]{1,200}$")
MAX_DATA_BYTES = 32_768


@dataclass(frozen=True)
class Request:
    channel: str
    template: str
    to: str | None
    data: dict[str, Any]
    dedupe_key: str | None


def webhook_allowed(url: str, allowlist: tuple[str, ...]) -> bool:
    """Whether `url` resolves only to addresses a webhook may reach (see common/outbound)."""
    try:
        outbound.vet(url, allowlist=allowlist)
    except outbound.Refused:
        return False
    return True


def parse_request(data: dict[str, Any]) -> Request:
    """A valid notification request, or a 422 ApiError naming every bad field."""
    errors: dict[str, str] = {}
    channel, to, values = data.get("channel", "email"), data.get("to"), data.get("data", {})
    if channel not in CHANNELS:
        errors["channel"] = f"one of {', '.join(CHANNELS)}"
    if not isinstance(data.get("template"), str) or not NAME.match(data["template"]):
        errors["template"] = "a template name (lowercase letters, digits, _)"
    accepts, described = RECIPIENTS.get(channel, RECIPIENTS["email"])
    if to is not None and (not isinstance(to, str) or not accepts(to)):
        errors["to"] = described
    if not isinstance(values, dict) or len(json.dumps(values, default=str)) > MAX_DATA_BYTES:
        errors["data"] = f"an object of at most {MAX_DATA_BYTES} bytes as JSON"
    key = data.get("dedupe_key")
    if key is not None and (not isinstance(key, str) or not DEDUPE.match(key)):
        errors["dedupe_key"] = "1 to 200 of letters, digits, . _ : -"
    if errors:
        raise ApiError(422, "invalid", "invalid notification", errors)
    return Request(channel, data["template"], to, values, key)


def save_template(conn: Connection, *, tenant_id: int, name: str, data: dict) -> None:
    """Store a tenant's template after compiling it (a syntax error is a 422)."""
    subject: Any = data.get("subject")  # a str once the checks below passed
    body: Any = data.get("body")
    errors = {}
    if not NAME.match(name):
        errors["name"] = "lowercase letters, digits, _ (at most 64)"
    if not isinstance(subject, str) or not 0 < len(subject) <= 300:
        errors["subject"] = "1 to 300 characters"
    if not isinstance(body, str) or not 0 < len(body) <= 50_000:
        errors["body"] = "1 to 50000 characters"
    if errors:
        raise ApiError(422, "invalid", "invalid template", errors)
    try:
        rendering.check(subject, body)
    except rendering.TemplateFailed as exc:
        raise ApiError(422, "template_error", str(exc)) from exc
    values = {"subject": subject, "body": body, "updated_at": datetime.now(UTC)}
    conn.execute(insert(templates).values(tenant_id=tenant_id, name=name, **values)
                 .on_conflict_do_update(index_elements=[templates.c.tenant_id, templates.c.name],
                                        set_=values))


def _template(conn: Connection, tenant_id: int, name: str) -> tuple[str, str]:
    row = conn.execute(select(templates.c.subject, templates.c.body).where(
        templates.c.tenant_id == tenant_id, templates.c.name == name)).first()
    if row is not None:
        return row.subject, row.body
    if name in rendering.DEFAULTS:
        return rendering.DEFAULTS[name]
    raise ApiError(422, "unknown_template", f"no template {name!r} for this tenant")


def _recipient(conn: Connection, tenant_id: int, req: Request) -> str:
    if req.to:
        return req.to
    row = conn.execute(select(contacts).where(contacts.c.tenant_id == tenant_id)).first()
    # A tenant contact has no phone number: an SMS always names its recipient.
    to = row and {"email": row.email, "webhook": row.webhook_url}.get(req.channel)
    if not to:
        raise ApiError(422, "no_recipient", f"no `to` and no {req.channel} contact for "
                                            "this tenant")
    return to


class Notifier:
    """Everything a send needs, built once per service."""

    def __init__(self, engine: Engine, limits: Limits, settings: NotificationSettings,
                 metrics: Metrics) -> None:
        self.engine, self.limits, self.settings, self.metrics = engine, limits, settings, metrics
        self.smtp = SmtpRelays(settings)
        self.sms = sms.SmsProviders(settings)

    def send(self, *, tenant_id: int, req: Request) -> dict[str, Any]:
        """Send one notification; the result's status is sent, duplicate, rate_limited or failed."""
        with self.engine.begin() as conn:
            subject, body = _template(conn, tenant_id, req.template)
            to = _recipient(conn, tenant_id, req)
            if not self.limits.claim(conn, tenant_id, req.dedupe_key):
                self.metrics.event("notification", "duplicate")
                return {"status": "duplicate", "dedupe_key": req.dedupe_key}
            allowed = self.limits.allow(conn, tenant_id)
            nid = conn.execute(notifications.insert().values(
                tenant_id=tenant_id, channel=req.channel, template=req.template, recipient=to,
                dedupe_key=req.dedupe_key, status="sending" if allowed else "rate_limited")
                .returning(notifications.c.id)).scalar_one()
        if not allowed:
            self.limits.release(tenant_id, req.dedupe_key)
            self.metrics.event("notification", "rate_limited")
            return {"id": nid, "status": "rate_limited"}
        try:
            rendered = rendering.render(subject, body, req.data)
            relay = self._deliver(req, to, rendered, nid)
        except (rendering.TemplateFailed, DeliveryFailed) as exc:
            kind = "template_error" if isinstance(exc, rendering.TemplateFailed) else \
                "delivery_failed"
            if isinstance(exc, TargetRefused):
                security_events.record(self.metrics, "outbound_refused")
            self._finish(nid, "failed", error=str(exc))
            self.limits.release(tenant_id, req.dedupe_key)
            self.metrics.event("notification", kind)
            log.error("notification %s failed (%s): %s", nid, kind, exc)
            return {"id": nid, "status": "failed", "error": kind, "message": str(exc)}
        self._finish(nid, "sent", relay=relay)
        self.metrics.event("notification", "sent")
        return {"id": nid, "status": "sent", "relay": relay}

    def _deliver(self, req: Request, to: str, rendered: rendering.Rendered, nid: str) -> str:
        if req.channel == "email":
            return self.smtp.send(to=to, subject=rendered.subject, body=rendered.body,
                                  message_id=nid)
        if req.channel == "sms":  # the body only: a subject means nothing in an SMS
            text = rendered.body.strip()
            if not 0 < len(text) <= sms.MAX_BODY:
                raise rendering.TemplateFailed(f"template error: an SMS body must render to 1 "
                                               f"to {sms.MAX_BODY} characters")
            return self.sms.send(to=to, body=text)
        return post_webhook(self.settings, url=to, payload={
            "id": nid, "template": req.template, "subject": rendered.subject,
            "body": rendered.body, "data": req.data})

    def _finish(self, nid: str, status: str, *, relay: str | None = None,
                error: str | None = None) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(notifications).where(notifications.c.id == nid).values(
                status=status, relay=relay, error=error,
                sent_at=datetime.now(UTC) if status == "sent" else None))
