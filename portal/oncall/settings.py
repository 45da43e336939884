"""Settings of the on-call domain."""
from pydantic import Field

from portal.config import EnvSettings, Flag, OptionalText
from portal.oncall.chat.settings import ChatSettings


class OncallSettings(EnvSettings):
    """Alertmanager, silences and page notifications."""
    ALERTMANAGER_URL: OptionalText = Field(None, description=(
        "Base URL of Alertmanager (API v2 under /api/v2), or the comma-separated URLs of an HA "
        "cluster: silences are written to the first that answers, alerts and silences read from "
        "all. Unset: the on-call page shows only the alerts received by webhook."))
    ALERTMANAGER_TIMEOUT: float = Field(3.0, description=(
        "Seconds before a call to Alertmanager is given up (then retried a bounded number of "
        "times)."))
    ALERTMANAGER_WEBHOOK_TOKEN: OptionalText = Field(None, description=(
        "Bearer token Alertmanager must send to /oncall/alertmanager/webhook. Unset: the webhook "
        "refuses every call (503)."))
    ONCALL_ALERTS_CACHE_SECONDS: float = Field(5.0, description=(
        "Seconds the alert list pulled from Alertmanager is shared by every viewer of the "
        "on-call page (it polls every 15 s). 0: pull on every request."))
    ONCALL_SILENCE_MAX_HOURS: int = Field(72, description=(
        "Longest silence the portal lets anyone create, in hours."))
    ONCALL_SILENCE_EXPIRY_NOTICE_MINUTES: int = Field(60, description=(
        "Minutes before a silence created in the portal ends that its creator is e-mailed once "
        "(through SMTP_HOST) so it can be extended in time. 0: no notices."))
    ONCALL_NOTIFY_WEBHOOK_URL: OptionalText = Field(None, description=(
        "Slack-compatible incoming-webhook URL pages are posted to. Unset: no chat notifications."))
    ONCALL_NOTIFY_MAX_ATTEMPTS: int = Field(3, description=(
        "Attempts per notification before it is marked failed (shown on the page)."))
    ONCALL_NOTIFY_TIMEOUT: float = Field(5.0, description=(
        "Seconds per chat-webhook attempt (page e-mails go through SMTP_HOST, with SMTP_TIMEOUT)."))
    ONCALL_AUTO_RESOLVE_INCIDENTS: Flag = Field(False, description=(
        "When true, an incident opened from alerts resolves itself (and its pages) once all of "
        "its alerts are resolved."))


# Chat for pages and incidents (Slack, Mattermost, Teams, Discord): its own module.
SETTINGS = (OncallSettings, ChatSettings)
