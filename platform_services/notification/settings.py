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
    sms_primary_url: str = field(default="https://api.twilio.com", metadata={
        "env": "SMS_PRIMARY_URL", "help": "Base URL of the primary SMS provider: Twilio's "
                                          "REST API or a Twilio-compatible one "
                                          "(/2010-04-01/Accounts/<sid>/Messages.json)."})
    sms_primary_account_sid: str | None = field(default=None, metadata={
        "env": "SMS_PRIMARY_ACCOUNT_SID", "help": "Account SID at the primary SMS provider. "
                                                  "Unset: SMS notifications fail with `no SMS "
                                                  "provider configured`."})
    sms_primary_auth_token: str | None = field(default=None, repr=False, metadata={
        "env": "SMS_PRIMARY_AUTH_TOKEN", "help": "Auth token of SMS_PRIMARY_ACCOUNT_SID."})
    sms_primary_from: str | None = field(default=None, metadata={
        "env": "SMS_PRIMARY_FROM", "help": "E.164 sender number at the primary provider."})
    sms_backup_url: str = field(default="https://api.twilio.com", metadata={
        "env": "SMS_BACKUP_URL", "help": "Base URL of the backup SMS provider (Twilio-"
                                         "compatible)."})
    sms_backup_account_sid: str | None = field(default=None, metadata={
        "env": "SMS_BACKUP_ACCOUNT_SID", "help": "Account SID at the backup provider, which "
                                                 "takes an SMS when the primary fails "
                                                 "transiently (network, 5xx, 429) or refuses "
                                                 "the account (401/403/404). Unset: no "
                                                 "failover."})
    sms_backup_auth_token: str | None = field(default=None, repr=False, metadata={
        "env": "SMS_BACKUP_AUTH_TOKEN", "help": "Auth token of SMS_BACKUP_ACCOUNT_SID."})
    sms_backup_from: str | None = field(default=None, metadata={
        "env": "SMS_BACKUP_FROM", "help": "E.164 sender number at the backup provider."})
    sms_timeout: float = field(default=5.0, metadata={
        "env": "SMS_TIMEOUT", "help": "Seconds before an SMS provider request gives up."})
    sms_retries: int = field(default=1, metadata={
        "env": "SMS_RETRIES", "help": "Retries of a provider's transient failure before the "
                                      "backup is tried (an error about the message, e.g. "
                                      "Twilio 21211 invalid number, is final)."})
