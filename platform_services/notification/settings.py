"""Settings of the notification service."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class NotificationSettings:
    smtp_relays: tuple[str, ...] = field(default=(), metadata={
        "env": "SMTP_RELAYS", "help": "host:port of the SMTP relays in failover order, "
                                      "comma-separated. Unset: e-mail notifications fail "
                                      "with `no SMTP relay configured`."})
    smtp_from: str = field(default="notifications@meridian.local", metadata={
        "env": "SMTP_FROM", "help": "Sender address."})
    smtp_timeout: float = field(default=5.0, metadata={
        "env": "SMTP_TIMEOUT", "help": "Seconds before a relay is given up for the next."})
    webhook_timeout: float = field(default=5.0, metadata={
        "env": "NOTIFY_WEBHOOK_TIMEOUT", "help": "Seconds before a webhook call gives up."})
    webhook_secret: str = field(default="meridian-dev-webhook-secret", metadata={
        "env": "NOTIFY_WEBHOOK_SECRET", "help": "HMAC key of the X-Meridian-Signature header."})
    outbound_allowed_hosts: tuple[str, ...] = field(default=(), metadata={
        "env": "OUTBOUND_ALLOWED_HOSTS", "help": "Host names or networks (CIDR) that webhook "
                                                 "URLs may reach although they are private or "
                                                 "loopback, comma-separated. Unset: only "
                                                 "public addresses."})
    rate_per_minute: int = field(default=60, metadata={
        "env": "NOTIFY_RATE_PER_MINUTE", "help": "Notifications a tenant may send per minute "
                                                 "(a misconfigured limit floods tenants)."})
    dedupe_seconds: int = field(default=86400, metadata={
        "env": "NOTIFY_DEDUPE_SECONDS", "help": "A repeated dedupe_key within this window is "
                                                "not sent again."})
