"""Settings of the portal, read from environment variables with documented defaults.

Every setting is declared once, as a field of a pydantic-settings class named exactly like
its environment variable, with its default and, as the field's description, its meaning:
the portal-wide ones in `PortalSettings` and `PhoneSettings` here, each domain's own in
`portal/<domain>/settings.py` (a `SETTINGS` tuple of `EnvSettings` classes). The README's
configuration table is checked against `all_settings()` by a test, so they cannot drift.
"""
from __future__ import annotations

import functools
import os
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Self, TypeVar

from pydantic import BeforeValidator, Field, ValidationError
from pydantic_settings import BaseSettings, EnvSettingsSource, SettingsConfigDict

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


def from_text(parse: Callable[[str], Any]) -> BeforeValidator:
    """Read a field's environment text with `parse` (a value given as an object is kept)."""
    return BeforeValidator(lambda value: parse(value) if isinstance(value, str) else value)


# The field types of environment values; plain str, int and float fields need none.
Flag = Annotated[bool, from_text(parse_bool)]
OptionalText = Annotated[str | None, from_text(parse_optional)]
TextList = Annotated[tuple[str, ...] | None, from_text(parse_list)]


class _Environment(EnvSettingsSource):
    """The variables of `environ` that name a setting, handed to the fields as text: the
    field types parse them (a comma-separated list is not JSON)."""

    def __init__(self, settings_cls: type[BaseSettings], environ: Mapping[str, str]) -> None:
        self._environ = environ
        super().__init__(settings_cls)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        # The source's hook for where variables come from (its dotenv subclass uses it too).
        names = self.settings_cls.model_fields.keys()
        return {name: self._environ[name] for name in names if name in self._environ}

    def prepare_field_value(self, field_name, field, value, value_is_complex):
        return value


class EnvSettings(BaseSettings):
    """Settings whose fields are named like their environment variables.

    Only `load` reads the environment: an instance built from values (tests) or from a
    dict of variables never picks up the process's own.
    """
    model_config = SettingsConfigDict(case_sensitive=True, frozen=True)

    @classmethod
    def settings_customise_sources(cls, settings_cls, init_settings, env_settings,
                                   dotenv_settings, file_secret_settings):
        return (init_settings,)

    @classmethod
    def load(cls, environ: Mapping[str, str] | None = None) -> Self:
        """The settings from `environ` (default: os.environ); ValueError names a bad one."""
        environ = os.environ if environ is None else environ
        given = tuple((name, environ[name]) for name in cls.model_fields if name in environ)
        return _validated(cls, given)


_S = TypeVar("_S", bound=EnvSettings)


# Validating the settings is a good part of building an app, and every app of a
# process (each test builds one) is given the same variables; settings are frozen, so
# equal variables can share one instance.
@functools.lru_cache(maxsize=256)
def _validated(cls: type[_S], given: tuple[tuple[str, str], ...]) -> _S:
    values = _Environment(cls, dict(given))()
    try:
        return cls(**values)
    except ValidationError as exc:
        error = exc.errors()[0]
        reason = error.get("ctx", {}).get("error") or error["msg"]
        raise ValueError(f"invalid {error['loc'][0]}: {reason}") from exc


@dataclass(frozen=True)
class Setting:
    """One setting as documented: its variable, default and meaning."""
    name: str
    default: Any
    help: str


def documented(settings_cls: type[BaseSettings]) -> tuple[Setting, ...]:
    """The settings of `settings_cls`, in declaration order."""
    return tuple(Setting(name, field.default, field.description or "")
                 for name, field in settings_cls.model_fields.items())


class PortalSettings(EnvSettings):
    """The portal-wide settings."""
    SECRET_KEY: OptionalText = Field(None, description=(
        "Signs sessions and CSRF tokens. Unset: a random key kept in INSTANCE_DIR/secret_key."))
    INSTANCE_DIR: str = Field(str(PROJECT_ROOT / "instance"), description=(
        "Local state of the embedded default: PostgreSQL data, secret key, job work dirs."))
    DATABASE_URL: OptionalText = Field(None, description=(
        "SQLAlchemy URL of PostgreSQL. Unset: the embedded PostgreSQL in INSTANCE_DIR/pgdata."))
    CELERY_BROKER_URL: OptionalText = Field(None, description=(
        "Celery broker (e.g. amqp://guest:guest@127.0.0.1:5672//). Unset: kombu's SQLAlchemy "
        "transport on DATABASE_URL."))
    CELERY_RESULT_BACKEND: OptionalText = Field(None, description=(
        "Celery result backend. Unset: the database (db+DATABASE_URL)."))
    CELERY_DEFAULT_QUEUE: str = Field("celery", description=(
        "Queue the portal's tasks and beat's runs go to (one broker, several deployments)."))
    REDIS_URL: OptionalText = Field(None, description=(
        "Redis for rate limits, caches and locks. Unset: per-process memory / the database."))
    LOGIN_RATE_LIMIT: str = Field("10 per minute", description=(
        "Failed logins allowed per client IP and account before 429."))
    SESSION_COOKIE_SECURE: Flag = Field(False, description=(
        "Force the Secure flag on the session cookie (it is set anyway on HTTPS requests)."))
    TRUST_PROXY_HEADERS: int = Field(0, description=(
        "Number of reverse proxies whose X-Forwarded-* headers are trusted (0 = none)."))
    MAX_CONTENT_LENGTH: int = Field(1024 * 1024, description=(
        "Largest request body accepted, in bytes (larger ones get 413)."))
    LOG_LEVEL: str = Field("INFO", description="Root log level.")
    LOG_FORMAT: str = Field("json", description="`json` (one JSON object per line) or `text`.")
    AUDIT_RETENTION_DAYS: int = Field(400, description=(
        "Audit entries older than this are purged daily."))
    PUBLIC_BASE_URL: str = Field("http://127.0.0.1:5000", description=(
        "The portal's address as users reach it, for links in e-mails and notifications."))
    SMTP_HOST: OptionalText = Field(None, description=(
        "SMTP relay for page notifications and scheduled reports. Unset: no e-mail."))
    SMTP_PORT: int = Field(25, description="Port of SMTP_HOST.")
    SMTP_FROM: str = Field("portal@meridian.example", description=(
        "Sender address of the portal's e-mail."))
    SMTP_TIMEOUT: float = Field(10.0, description="Seconds before an SMTP delivery is given up.")
    PORTAL_HOST: str = Field("127.0.0.1", description="Address `portal dev` serves the portal on.")
    PORTAL_PORT: int = Field(5000, description="Port `portal dev` serves the portal on.")
    ALERTING_NOT_CONNECTED: OptionalText = Field(None, description=(
        "Why live alerting is unavailable, shown as a banner on every page (`portal dev` sets it "
        "when it cannot start Alertmanager and Prometheus)."))
    PORTAL_ENV: str = Field("development", description=(
        "`production` refuses to start while SECRET_KEY or any webhook/API secret is unset or a "
        "known default; any other value shows a demo banner on every page."))
    SERVICES_AUTH_URL: OptionalText = Field(None, description=(
        "The platform auth service the portal gets its tokens from, to read the platform "
        "services (health and billing panels). Unset: the services are called without one."))
    SERVICES_CLIENT_ID: OptionalText = Field(None, description=(
        "The portal's client id at SERVICES_AUTH_URL (client credentials)."))
    SERVICES_CLIENT_SECRET: OptionalText = Field(None, description="Secret of SERVICES_CLIENT_ID.")
    OUTBOUND_ALLOWED_HOSTS: TextList = Field(None, description=(
        "Comma-separated hosts, addresses or CIDR ranges that webhooks may reach although they "
        "are private or loopback (by default only public addresses are called)."))
    GRAFANA_URL: OptionalText = Field(None, description=(
        "Grafana's address as users reach it (e.g. https://grafana.meridian.example). Set: "
        "services, alerts, incidents and jobs link to their dashboards and to logs and traces in "
        "Explore. Unset: no Grafana links are shown."))
    GRAFANA_ORG_ID: int = Field(1, description="Grafana organization the links open (`orgId`).")
    LOKI_URL: OptionalText = Field(None, description=(
        "Loki's address as Grafana reaches it; Grafana's provisioned Loki datasource "
        "(infra/grafana/provisioning) reads the same variable. Set with GRAFANA_URL: log links "
        "in Explore. Unset: no log links."))
    TEMPO_URL: OptionalText = Field(None, description=(
        "Tempo's address as Grafana reaches it; Grafana's provisioned Tempo datasource reads the "
        "same variable. Set with GRAFANA_URL: trace links in Explore. Unset: no trace links."))
    GRAFANA_LOKI_UID: str = Field("loki", description=(
        "Uid of Grafana's Loki datasource that Explore log links query "
        "(infra/grafana/provisioning names it `loki`; change it only for a Grafana provisioned "
        "elsewhere)."))
    GRAFANA_TEMPO_UID: str = Field("tempo", description=(
        "Uid of Grafana's Tempo datasource that Explore trace links open (provisioned as "
        "`tempo`)."))
    GRAFANA_PORTAL_NAMESPACE: str = Field("platform-portal", description=(
        "Loki `namespace` label of the portal's own pods (a self-service job's log link searches "
        "the worker's lines for the job id)."))
    GRAFANA_PORTAL_APP: str = Field("portal", description=(
        "Loki `app` label of the portal's own pods."))


def parse_phone_provider(value: str) -> str | None:
    """`twilio`, or None when empty."""
    kind = value.strip().lower()
    if kind and kind != "twilio":
        raise ValueError("`twilio` (or empty)")
    return kind or None


PhoneProvider = Annotated[str | None, from_text(parse_phone_provider)]


class PhoneSettings(EnvSettings):
    """PHONE_PROVIDER_PRIMARY and PHONE_PROVIDER_BACKUP, each with its URL, account SID, auth
    token and sender number, then the failover and callback settings (used by
    portal.integrations.phone)."""
    PHONE_PROVIDER_PRIMARY: PhoneProvider = Field(None, description=(
        "Phone provider that sends SMS and places calls for paging: `twilio` (Twilio's REST API, "
        "or a Twilio-compatible one at its URL). Unset: no SMS or phone calls."))
    PHONE_PROVIDER_PRIMARY_URL: str = Field("https://api.twilio.com", description=(
        "Base URL of the primary provider's API (requests go to /2010-04-01/Accounts/<sid>/...); "
        "it passes the outbound address checks (OUTBOUND_ALLOWED_HOSTS)."))
    PHONE_PROVIDER_PRIMARY_ACCOUNT_SID: OptionalText = Field(None, description=(
        "Account SID at the primary provider (the user name of its basic auth)."))
    PHONE_PROVIDER_PRIMARY_AUTH_TOKEN: OptionalText = Field(None, description=(
        "Auth token of PHONE_PROVIDER_PRIMARY_ACCOUNT_SID; also verifies the signature of its "
        "status callbacks."))
    PHONE_PROVIDER_PRIMARY_FROM: OptionalText = Field(None, description=(
        "E.164 number the primary provider's SMS and calls come from (e.g. +15017122661)."))
    PHONE_PROVIDER_BACKUP: PhoneProvider = Field(None, description=(
        "Provider SMS and calls fail over to when the primary fails transiently (network error, "
        "HTTP 5xx or 429) after PHONE_RETRIES retries, or refuses the account (401/403/404): "
        "`twilio`. Unset: no failover."))
    PHONE_PROVIDER_BACKUP_URL: str = Field("https://api.twilio.com", description=(
        "Base URL of the backup provider's API (requests go to /2010-04-01/Accounts/<sid>/...); "
        "it passes the outbound address checks (OUTBOUND_ALLOWED_HOSTS)."))
    PHONE_PROVIDER_BACKUP_ACCOUNT_SID: OptionalText = Field(None, description=(
        "Account SID at the backup provider (the user name of its basic auth)."))
    PHONE_PROVIDER_BACKUP_AUTH_TOKEN: OptionalText = Field(None, description=(
        "Auth token of PHONE_PROVIDER_BACKUP_ACCOUNT_SID; also verifies the signature of its "
        "status callbacks."))
    PHONE_PROVIDER_BACKUP_FROM: OptionalText = Field(None, description=(
        "E.164 number the backup provider's SMS and calls come from (e.g. +15017122661)."))
    PHONE_RETRIES: int = Field(1, description=(
        "Retries of a provider's transient failure, 0.25 s then 0.5 s ... apart, before the next "
        "provider is tried. An error about the message itself (e.g. an invalid number, Twilio "
        "21211) is never retried."))
    PHONE_TIMEOUT: float = Field(5.0, description=(
        "Seconds per provider request (connect and read each)."))
    PHONE_STATUS_CALLBACK: Flag = Field(False, description=(
        "Ask the providers to POST delivery reports to PUBLIC_BASE_URL + "
        "/integrations/twilio/status (signature-checked); PUBLIC_BASE_URL must then be reachable "
        "from the internet."))


SETTINGS: tuple[type[EnvSettings], ...] = (PortalSettings, PhoneSettings)


def instance_secret_key(instance_dir: str) -> str:
    """Return the secret key kept in the instance folder, creating it on first use."""
    path = Path(instance_dir) / "secret_key"
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def settings_classes() -> tuple[type[EnvSettings], ...]:
    """The portal-wide settings classes followed by every domain's own."""
    return SETTINGS + tuple(cls for module in domains.modules("settings")
                            for cls in module.SETTINGS)


def all_settings() -> tuple[Setting, ...]:
    """Every setting, portal-wide ones first, as documented."""
    return tuple(setting for cls in settings_classes() for setting in documented(cls))


def from_env(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Build the settings dict from environment variables, falling back to defaults."""
    values: dict[str, Any] = {}
    for cls in settings_classes():
        values.update(cls.load(environ).model_dump())
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
