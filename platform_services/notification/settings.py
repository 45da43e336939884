"""Settings of the notification service."""
from __future__ import annotations

from pydantic import Field

from platform_services.common.settings import EnvSettings, OptionalText, Text, TextList


class NotificationSettings(EnvSettings):
    smtp_relays: TextList = Field((), alias="SMTP_RELAYS", description=(
        "host:port of the SMTP relays in failover order, comma-separated. Unset: e-mail "
        "notifications fail with `no SMTP relay configured`."))
    smtp_from: Text = Field("notifications@meridian.local", alias="SMTP_FROM", description=(
        "Sender address."))
    smtp_timeout: float = Field(5.0, alias="SMTP_TIMEOUT", description=(
        "Seconds before a relay is given up for the next."))
    webhook_timeout: float = Field(5.0, alias="NOTIFY_WEBHOOK_TIMEOUT", description=(
        "Seconds before a webhook call gives up."))
    webhook_secret: Text = Field(
        "meridian-dev-webhook-secret", alias="NOTIFY_WEBHOOK_SECRET", description=(
            "HMAC key of the X-Meridian-Signature header."))
    outbound_allowed_hosts: TextList = Field((), alias="OUTBOUND_ALLOWED_HOSTS", description=(
        "Host names or networks (CIDR) that webhook URLs may reach although they are private or "
        "loopback, comma-separated. Unset: only public addresses."))
    rate_per_minute: int = Field(60, alias="NOTIFY_RATE_PER_MINUTE", description=(
        "Notifications a tenant may send per minute (a misconfigured limit floods tenants)."))
    dedupe_seconds: int = Field(86400, alias="NOTIFY_DEDUPE_SECONDS", description=(
        "A repeated dedupe_key within this window is not sent again."))
    sms_primary_url: Text = Field("https://api.twilio.com", alias="SMS_PRIMARY_URL", description=(
        "Base URL of the primary SMS provider: Twilio's REST API or a Twilio-compatible one "
        "(/2010-04-01/Accounts/<sid>/Messages.json)."))
    sms_primary_account_sid: OptionalText = Field(
        None, alias="SMS_PRIMARY_ACCOUNT_SID", description=(
            "Account SID at the primary SMS provider. Unset: SMS notifications fail with `no SMS "
            "provider configured`."))
    sms_primary_auth_token: OptionalText = Field(
        None, alias="SMS_PRIMARY_AUTH_TOKEN", repr=False, description=(
            "Auth token of SMS_PRIMARY_ACCOUNT_SID."))
    sms_primary_from: OptionalText = Field(None, alias="SMS_PRIMARY_FROM", description=(
        "E.164 sender number at the primary provider."))
    sms_backup_url: Text = Field("https://api.twilio.com", alias="SMS_BACKUP_URL", description=(
        "Base URL of the backup SMS provider (Twilio-compatible)."))
    sms_backup_account_sid: OptionalText = Field(None, alias="SMS_BACKUP_ACCOUNT_SID", description=(
        "Account SID at the backup provider, which takes an SMS when the primary fails "
        "transiently (network, 5xx, 429) or refuses the account (401/403/404). Unset: no "
        "failover."))
    sms_backup_auth_token: OptionalText = Field(
        None, alias="SMS_BACKUP_AUTH_TOKEN", repr=False, description=(
            "Auth token of SMS_BACKUP_ACCOUNT_SID."))
    sms_backup_from: OptionalText = Field(None, alias="SMS_BACKUP_FROM", description=(
        "E.164 sender number at the backup provider."))
    sms_timeout: float = Field(5.0, alias="SMS_TIMEOUT", description=(
        "Seconds before an SMS provider request gives up."))
    sms_retries: int = Field(1, alias="SMS_RETRIES", description=(
        "Retries of a provider's transient failure before the backup is tried (an error about "
        "the message, e.g. Twilio 21211 invalid number, is final)."))
