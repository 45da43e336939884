"""Production refuses to start with secrets that anyone who read the docs could forge.

The README, docker-compose.yml and the test suite show example secrets; a deployment that
kept one (or left SECRET_KEY to a generated file nobody manages) would accept forged
sessions, CSRF tokens or webhook calls. With PORTAL_ENV=production the app factory checks
every secret the portal holds and names each one that is unset or a known default.
"""
from __future__ import annotations

import os
from urllib.parse import urlsplit

from portal.config import all_settings

# Every example secret shipped with the project, plus the usual placeholders.
KNOWN_DEFAULTS = frozenset({
    "change-me-in-production", "change-me-webhook-token", "meridian-secret", "meridian",
    "dev-root", "test-secret", "guest", "postgres", "password", "secret", "changeme",
    "change-me", "dev", "development", "test", "admin", "portal",
})
SECRET_SUFFIXES = ("SECRET_KEY", "_SECRET", "_TOKEN", "_PASSWORD", "SECRET_ACCESS_KEY")
# Secrets the portal's libraries read straight from the environment (boto3, hvac).
ENVIRONMENT_SECRETS = ("AWS_SECRET_ACCESS_KEY", "VAULT_TOKEN")
MIN_SECRET_KEY_LENGTH = 32


class InsecureConfiguration(RuntimeError):
    """Production settings that must be fixed before the portal may start."""


def _weak(value: str) -> bool:
    return value.strip().lower() in KNOWN_DEFAULTS


def problems(config, environ=None) -> list[str]:
    """Each secret setting that is unset or a known default, as a readable line."""
    environ = os.environ if environ is None else environ
    found = []
    key = config.get("SECRET_KEY")
    if not key:
        found.append("SECRET_KEY is unset")
    elif _weak(key) or len(key) < MIN_SECRET_KEY_LENGTH:
        found.append(f"SECRET_KEY is a known default or shorter than {MIN_SECRET_KEY_LENGTH} "
                     "characters")
    names = [s.name for s in all_settings() if s.name != "SECRET_KEY"]
    for name in names:
        value = config.get(name)
        if not isinstance(value, str) or not value:
            continue
        if name.endswith(SECRET_SUFFIXES) and _weak(value):
            found.append(f"{name} is a known default")
        elif name.endswith("_URL") and _weak(urlsplit(value).password or ""):
            found.append(f"{name} carries a known default password")
    for name in ENVIRONMENT_SECRETS:
        if environ.get(name) and _weak(environ[name]):
            found.append(f"{name} is a known default")
    return found


def check(config, environ=None) -> None:
    """Raise InsecureConfiguration naming every weak secret when PORTAL_ENV=production."""
    if config.get("PORTAL_ENV") != "production":
        return
    found = problems(config, environ)
    if found:
        raise InsecureConfiguration(
            "refusing to start in production: " + "; ".join(found)
            + ". Set each to a long random value (e.g. `python -c 'import secrets; "
              "print(secrets.token_hex(32))'`).")
