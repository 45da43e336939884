"""Production services refuse to start with secrets anyone who read the docs could forge.

The README lists every setting's default, docker-compose.yml ships example credentials,
and a deployment that kept one would accept forged Stripe webhooks, sign notification
webhooks with a key every tenant can look up, or hand out the operator token. With
SERVICE_ENV=production each service checks its settings before it builds anything and
names every secret that is unset (where one is required) or a documented/known default.
"""
from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from pydantic import BaseModel

    from platform_services.common.config import ServiceConfig

ENVIRONMENTS = ("development", "production")
# Example secrets shipped with the project (README defaults, docker-compose, placeholders).
KNOWN_DEFAULTS = frozenset({
    "whsec_meridian_local", "sk_test_meridian_local", "meridian-dev-webhook-secret",
    "meridian-dev-pepper", "change-me-in-production", "change-me-webhook-token",
    "meridian-secret", "meridian", "dev-root", "guest", "postgres", "password", "secret",
    "changeme", "change-me", "test", "admin", "root", "token",
})
SECRET_SUFFIXES = ("_SECRET", "_TOKEN", "_API_KEY", "_PEPPER", "_PASSWORD")
# Read by libraries (boto3) straight from the environment, not through a settings class.
ENVIRONMENT_SECRETS = ("AWS_SECRET_ACCESS_KEY",)


class InsecureConfiguration(RuntimeError):
    """Production settings that must be fixed before the service may start."""


def _weak(value: str) -> bool:
    return value.strip().lower() in KNOWN_DEFAULTS


def problems(*settings: BaseModel,
             environ: Mapping[str, str] | None = None) -> list[str]:
    """Each secret of the settings objects that is unset or a default, as a line."""
    environ = os.environ if environ is None else environ
    found = []
    for obj in settings:
        for field_name, f in type(obj).model_fields.items():
            name, value = f.alias or field_name.upper(), getattr(obj, field_name)
            if name.endswith(SECRET_SUFFIXES):
                if not value:
                    extra = f.json_schema_extra if isinstance(f.json_schema_extra, dict) else {}
                    if extra.get("required_in_production"):
                        found.append(f"{name} is unset")
                elif value == f.default:
                    found.append(f"{name} is the documented default")
                elif _weak(value):
                    found.append(f"{name} is a known example value")
            elif name.endswith("_URL") and isinstance(value, str):
                try:
                    password = urlsplit(value).password or ""
                except ValueError:
                    continue
                if _weak(password):
                    found.append(f"{name} carries a known default password")
    found += [f"{name} is a known example value" for name in ENVIRONMENT_SECRETS
              if environ.get(name) and _weak(environ[name])]
    return found


def require_safe(config: ServiceConfig, *settings: BaseModel,
                 environ: Mapping[str, str] | None = None) -> None:
    """Raise InsecureConfiguration naming every weak secret of `config` and `settings`
    when `config.environment` is production; ValueError for an unknown environment."""
    if config.environment not in ENVIRONMENTS:
        raise ValueError(f"invalid SERVICE_ENV {config.environment!r}: one of "
                         f"{', '.join(ENVIRONMENTS)}")
    if config.environment != "production":
        return
    found = problems(config, *settings, environ=environ)
    if found:
        raise InsecureConfiguration(
            f"refusing to start {config.service} in production: " + "; ".join(found)
            + ". Set each to a long random value (e.g. `python -c 'import secrets; "
              "print(secrets.token_hex(32))'`).")
