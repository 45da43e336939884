"""Settings of the portal, read from environment variables with documented defaults.

Every setting is declared once: the portal-wide ones in `SETTINGS` here, each domain's own
in `portal/<domain>/settings.py` (a `SETTINGS` tuple of `Setting`). The README's
configuration table is checked against `all_settings()` by a test, so they cannot drift.
"""
from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from portal import domains

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def parse_bool(value: str) -> bool:
    """Parse the usual spellings of a boolean environment value."""
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError(f"not a boolean: {value!r}")


def parse_optional(value: str) -> str | None:
    """An empty value means 'not configured'."""
    return value.strip() or None


def parse_list(value: str) -> tuple[str, ...]:
    """A comma-separated list; blanks are dropped."""
    return tuple(item.strip() for item in value.split(",") if item.strip())


@dataclass(frozen=True)
class Setting:
    name: str
    default: Any
    parse: Callable[[str], Any]
    help: str


def phone_settings() -> tuple[Setting, ...]:
    """PHONE_PROVIDER_PRIMARY and PHONE_PROVIDER_BACKUP, each with its URL, account SID,
    auth token and sender number, then the failover and callback settings (used by
    portal.integrations.phone)."""
    def kind(value: str) -> str | None:
        kind = value.strip().lower()
        if kind and kind != "twilio":
            raise ValueError("`twilio` (or empty)")
        return kind or None

    roles = (("PRIMARY", "Phone provider that sends SMS and places calls for paging: `twilio` "
                         "(Twilio's REST API, or a Twilio-compatible one at its URL). Unset: no "
                         "SMS or phone calls."),
             ("BACKUP", "Provider SMS and calls fail over to when the primary fails "
                        "transiently (network error, HTTP 5xx or 429) after PHONE_RETRIES "
                        "retries, or refuses the account (401/403/404): `twilio`. Unset: no "
                        "failover."))
    found: list[Setting] = []
    for role, meaning in roles:
        name, low = f"PHONE_PROVIDER_{role}", role.lower()
        found += [
            Setting(name, None, kind, meaning),
            Setting(f"{name}_URL", "https://api.twilio.com", str,
                    f"Base URL of the {low} provider's API (requests go to "
                    "/2010-04-01/Accounts/<sid>/...); it passes the outbound address checks "
                    "(OUTBOUND_ALLOWED_HOSTS)."),
            Setting(f"{name}_ACCOUNT_SID", None, parse_optional,
                    f"Account SID at the {low} provider (the user name of its basic auth)."),
            Setting(f"{name}_AUTH_TOKEN", None, parse_optional,
                    f"Auth token of {name}_ACCOUNT_SID; also verifies the signature of its "
                    "status callbacks."),
            Setting(f"{name}_FROM", None, parse_optional,
                    f"E.164 number the {low} provider's SMS and calls come from "
                    "(e.g. +15017122661)."),
        ]
    return (*found,
            Setting("PHONE_RETRIES", 1, int,
                    "Retries of a provider's transient failure, 0.25 s then 0.5 s ... apart, "
                    "before the next provider is tried. An error about the message itself "
                    "(e.g. an invalid number, Twilio 21211) is never retried."),
            Setting("PHONE_TIMEOUT", 5.0, float,
                    "Seconds per provider request (connect and read each)."),
            Setting("PHONE_STATUS_CALLBACK", False, parse_bool,
                    "Ask the providers to POST delivery reports to PUBLIC_BASE_URL + "
                    "/integrations/twilio/status (signature-checked); PUBLIC_BASE_URL must "
                    "then be reachable from the internet."))


SETTINGS: tuple[Setting, ...] = (
    Setting("SECRET_KEY", None, parse_optional,
            "Signs sessions and CSRF tokens. Unset: a random key kept in INSTANCE_DIR/secret_key."),
    Setting("INSTANCE_DIR", str(PROJECT_ROOT / "instance"), str,
            "Local state of the embedded default: PostgreSQL data, secret key, job work dirs."),
    Setting("DATABASE_URL", None, parse_optional,
            "SQLAlchemy URL of PostgreSQL. Unset: the embedded PostgreSQL in INSTANCE_DIR/pgdata."),
    Setting("CELERY_BROKER_URL", None, parse_optional,
            "Celery broker (e.g. amqp://guest:guest@127.0.0.1:5672//). Unset: kombu's SQLAlchemy "
            "transport on DATABASE_URL."),
    Setting("CELERY_RESULT_BACKEND", None, parse_optional,
            "Celery result backend. Unset: the database (db+DATABASE_URL)."),
    Setting("CELERY_DEFAULT_QUEUE", "celery", str,
            "Queue the portal's tasks and beat's runs go to (one broker, several deployments)."),
    Setting("REDIS_URL", None, parse_optional,
            "Redis for rate limits, caches and locks. Unset: per-process memory / the database."),
    Setting("LOGIN_RATE_LIMIT", "10 per minute", str,
            "Failed logins allowed per client IP and account before 429."),
    Setting("SESSION_COOKIE_SECURE", False, parse_bool,
            "Force the Secure flag on the session cookie (it is set anyway on HTTPS requests)."),
    Setting("TRUST_PROXY_HEADERS", 0, int,
            "Number of reverse proxies whose X-Forwarded-* headers are trusted (0 = none)."),
    Setting("MAX_CONTENT_LENGTH", 1024 * 1024, int,
            "Largest request body accepted, in bytes (larger ones get 413)."),
    Setting("LOG_LEVEL", "INFO", str, "Root log level."),
    Setting("LOG_FORMAT", "json", str, "`json` (one JSON object per line) or `text`."),
    Setting("AUDIT_RETENTION_DAYS", 400, int, "Audit entries older than this are purged daily."),
    Setting("PUBLIC_BASE_URL", "http://127.0.0.1:5000", str,
            "The portal's address as users reach it, for links in e-mails and notifications."),
    Setting("SMTP_HOST", None, parse_optional,
            "SMTP relay for page notifications and scheduled reports. Unset: no e-mail."),
    Setting("SMTP_PORT", 25, int, "Port of SMTP_HOST."),
    Setting("SMTP_FROM", "portal@meridian.example", str, "Sender address of the portal's e-mail."),
    Setting("SMTP_TIMEOUT", 10.0, float, "Seconds before an SMTP delivery is given up."),
    Setting("PORTAL_HOST", "127.0.0.1", str, "Address `portal dev` serves the portal on."),
    Setting("PORTAL_PORT", 5000, int, "Port `portal dev` serves the portal on."),
    Setting("ALERTING_NOT_CONNECTED", None, parse_optional,
            "Why live alerting is unavailable, shown as a banner on every page (`portal dev` "
            "sets it when it cannot start Alertmanager and Prometheus)."),
    Setting("PORTAL_ENV", "development", str,
            "`production` refuses to start while SECRET_KEY or any webhook/API secret is unset "
            "or a known default; any other value shows a demo banner on every page."),
    Setting("SERVICES_AUTH_URL", None, parse_optional,
            "The platform auth service the portal gets its tokens from, to read the platform "
            "services (health and billing panels). Unset: the services are called without one."),
    Setting("SERVICES_CLIENT_ID", None, parse_optional,
            "The portal's client id at SERVICES_AUTH_URL (client credentials)."),
    Setting("SERVICES_CLIENT_SECRET", None, parse_optional, "Secret of SERVICES_CLIENT_ID."),
    Setting("OUTBOUND_ALLOWED_HOSTS", None, parse_list,
            "Comma-separated hosts, addresses or CIDR ranges that webhooks may reach although "
            "they are private or loopback (by default only public addresses are called)."),
    Setting("GRAFANA_URL", None, parse_optional,
            "Grafana's address as users reach it (e.g. https://grafana.meridian.example). Set: "
            "services, alerts, incidents and jobs link to their dashboards and to logs and traces "
            "in Explore. Unset: no Grafana links are shown."),
    Setting("GRAFANA_ORG_ID", 1, int, "Grafana organization the links open (`orgId`)."),
    Setting("LOKI_URL", None, parse_optional,
            "Loki's address as Grafana reaches it; Grafana's provisioned Loki datasource "
            "(infra/grafana/provisioning) reads the same variable. Set with GRAFANA_URL: log "
            "links in Explore. Unset: no log links."),
    Setting("TEMPO_URL", None, parse_optional,
            "Tempo's address as Grafana reaches it; Grafana's provisioned Tempo datasource "
            "reads the same variable. Set with GRAFANA_URL: trace links in Explore. Unset: no "
            "trace links."),
    Setting("GRAFANA_LOKI_UID", "loki", str,
            "Uid of Grafana's Loki datasource that Explore log links query "
            "(infra/grafana/provisioning names it `loki`; change it only for a Grafana "
            "provisioned elsewhere)."),
    Setting("GRAFANA_TEMPO_UID", "tempo", str,
            "Uid of Grafana's Tempo datasource that Explore trace links open "
            "(provisioned as `tempo`)."),
    Setting("GRAFANA_PORTAL_NAMESPACE", "platform-portal", str,
            "Loki `namespace` label of the portal's own pods (a self-service job's log link "
            "searches the worker's lines for the job id)."),
    Setting("GRAFANA_PORTAL_APP", "portal", str, "Loki `app` label of the portal's own pods."),
    *phone_settings(),
)


def instance_secret_key(instance_dir: str) -> str:
    """Return the secret key kept in the instance folder, creating it on first use."""
    path = Path(instance_dir) / "secret_key"
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def all_settings() -> tuple[Setting, ...]:
    """The portal-wide settings followed by every domain's own."""
    extra = tuple(s for module in domains.modules("settings") for s in module.SETTINGS)
    return SETTINGS + extra


def from_env(environ: dict[str, str] | None = None) -> dict[str, Any]:
    """Build the settings dict from environment variables, falling back to defaults."""
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for setting in all_settings():
        raw = environ.get(setting.name)
        try:
            values[setting.name] = setting.default if raw is None else setting.parse(raw)
        except ValueError as exc:
            raise ValueError(f"invalid {setting.name}: {exc}") from exc
    # Production must be given its key: a generated file nobody manages is not allowed there.
    if not values["SECRET_KEY"] and values["PORTAL_ENV"] != "production":
        values["SECRET_KEY"] = instance_secret_key(values["INSTANCE_DIR"])
    return values


def flask_config(settings: dict[str, Any]) -> dict[str, Any]:
    """Translate settings into the Flask/extension config keys that depend on them."""
    return {
        **settings,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "WTF_CSRF_TIME_LIMIT": None,  # token lives as long as the session; pages stay open for hours
        "WTF_CSRF_HEADERS": ["X-CSRFToken"],
        "RATELIMIT_STORAGE_URI": settings["REDIS_URL"] or "memory://",
        "RATELIMIT_HEADERS_ENABLED": True,
        "ARGON2_PARAMS": {},
        "AUDIT_ENFORCE": False,
    }


def settings_table() -> str:
    """The Markdown table of every setting, as the README shows it."""
    rows = ["| Variable | Default | Meaning |", "|---|---|---|"]
    for setting in all_settings():
        default = setting.default
        if isinstance(default, str) and default.startswith(str(PROJECT_ROOT)):
            default = "./" + default[len(str(PROJECT_ROOT)) + 1:]
        shown = "unset" if default is None else f"`{default}`"
        rows.append(f"| `{setting.name}` | {shown} | {setting.help} |")
    return "\n".join(rows)
