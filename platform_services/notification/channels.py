"""Delivery channels: SMTP through relays in failover order, and signed webhooks.

A relay that refuses the connection, times out, drops the session or answers a 4xx
(temporary) error is skipped for the next one (failover from SendGrid to SES).
A 5xx answer about the message itself (recipient refused) is final: another relay would
refuse it too, and trying would only delay the error.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import logging
import smtplib
import time
from email.message import EmailMessage
from urllib.parse import urlsplit

from platform_services.common import outbound
from platform_services.notification.settings import NotificationSettings

log = logging.getLogger(__name__)


class DeliveryFailed(Exception):
    """No relay / the webhook endpoint could take the notification."""


class TargetRefused(DeliveryFailed):
    """The webhook URL resolves to an address outside the outbound allowlist."""


def _host_port(relay: str) -> tuple[str, int]:
    host, _, port = relay.rpartition(":")
    return host, int(port)


class SmtpRelays:
    """Sends through the first relay that accepts the message."""

    def __init__(self, settings: NotificationSettings) -> None:
        self.settings = settings

    def send(self, *, to: str, subject: str, body: str, message_id: str) -> str:
        """Deliver one e-mail; returns the relay that accepted it."""
        if not self.settings.smtp_relays:
            raise DeliveryFailed("no SMTP relay configured (SMTP_RELAYS)")
        msg = EmailMessage()
        msg["From"], msg["To"], msg["Subject"] = self.settings.smtp_from, to, subject
        msg["Message-ID"] = f"<{message_id}@meridian.notification>"
        msg.set_content(body)
        problems = []
        for relay in self.settings.smtp_relays:
            try:
                host, port = _host_port(relay)
                with smtplib.SMTP(host, port, timeout=self.settings.smtp_timeout) as smtp:
                    smtp.send_message(msg)
                return relay
            except smtplib.SMTPRecipientsRefused as exc:
                raise DeliveryFailed(f"recipient refused by {relay}: {exc.recipients}") from exc
            except smtplib.SMTPResponseException as exc:
                if exc.smtp_code >= 500:
                    raise DeliveryFailed(f"{relay} refused the message: {exc.smtp_code} "
                                         f"{exc.smtp_error!r}") from exc
                problems.append(f"{relay}: {exc.smtp_code}")
            except (OSError, smtplib.SMTPException, ValueError) as exc:
                problems.append(f"{relay}: {type(exc).__name__}: {exc}")
            log.warning("SMTP relay failed, trying the next: %s", problems[-1])
        raise DeliveryFailed("every SMTP relay failed: " + "; ".join(problems))


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """`t=<ts>,v1=<hex hmac-sha256 of "ts.body">`, the header receivers verify."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def post_webhook(settings: NotificationSettings, *, url: str, payload: dict) -> str:
    """POST the signed JSON payload to a vetted address; returns the endpoint's host.

    Any refusal or failure is the same DeliveryFailed message (see common/outbound.py)."""
    body = json.dumps(payload, separators=(",", ":")).encode()
    headers = {"Content-Type": "application/json",
               "X-Meridian-Signature": signature(settings.webhook_secret, int(time.time()), body)}
    try:
        target = outbound.vet(url, allowlist=settings.outbound_allowed_hosts)
    except outbound.Refused as exc:
        log.warning("webhook to %s refused: not an allowed address", url[:300])
        raise TargetRefused(outbound.UNDELIVERED) from exc
    try:
        outbound.post(target, body, headers, timeout=settings.webhook_timeout)
    except outbound.Refused as exc:
        raise DeliveryFailed(str(exc)) from exc
    return urlsplit(url).netloc
