"""Settings of the on-call domain."""
from portal.config import Setting, parse_bool, parse_optional
from portal.oncall.chat.settings import SETTINGS as CHAT_SETTINGS

SETTINGS = (
    Setting("ALERTMANAGER_URL", None, parse_optional,
            "Base URL of Alertmanager (API v2 under /api/v2), or the comma-separated URLs of "
            "an HA cluster: silences are written to the first that answers, alerts and "
            "silences read from all. Unset: the on-call page shows only the alerts received "
            "by webhook."),
    Setting("ALERTMANAGER_TIMEOUT", 3.0, float,
            "Seconds before a call to Alertmanager is given up (then retried a bounded number "
            "of times)."),
    Setting("ALERTMANAGER_WEBHOOK_TOKEN", None, parse_optional,
            "Bearer token Alertmanager must send to /oncall/alertmanager/webhook. Unset: the "
            "webhook refuses every call (503)."),
    Setting("ONCALL_ALERTS_CACHE_SECONDS", 5.0, float,
            "Seconds the alert list pulled from Alertmanager is shared by every viewer of the "
            "on-call page (it polls every 15 s). 0: pull on every request."),
    Setting("ONCALL_SILENCE_MAX_HOURS", 72, int,
            "Longest silence the portal lets anyone create, in hours."),
    Setting("ONCALL_SILENCE_EXPIRY_NOTICE_MINUTES", 60, int,
            "Minutes before a silence created in the portal ends that its creator is e-mailed "
            "once (through SMTP_HOST) so it can be extended in time. 0: no notices."),
    Setting("ONCALL_NOTIFY_WEBHOOK_URL", None, parse_optional,
            "Slack-compatible incoming-webhook URL pages are posted to. Unset: no chat "
            "notifications."),
    Setting("ONCALL_NOTIFY_MAX_ATTEMPTS", 3, int,
            "Attempts per notification before it is marked failed (shown on the page)."),
    Setting("ONCALL_NOTIFY_TIMEOUT", 5.0, float,
            "Seconds per chat-webhook attempt (page e-mails go through SMTP_HOST, with "
            "SMTP_TIMEOUT)."),
    Setting("ONCALL_AUTO_RESOLVE_INCIDENTS", False, parse_bool,
            "When true, an incident opened from alerts resolves itself (and its pages) once "
            "all of its alerts are resolved."),
)

# Chat for pages and incidents (Slack, Mattermost, Teams, Discord): its own module.
SETTINGS += CHAT_SETTINGS
