"""Tokens for the services' tests, from a real auth service.

`platform_auth()` (a session fixture body) starts an auth service whose platform clients
file holds the test platform client (every scope, no tenant). `api` is a requests session
that, for the URL of a service started by the tests' `run_service`, sends a token for that
service's audience from the auth service the service trusts (an auth service trusts
itself); explicit `Authorization` headers or `auth=` are sent as given, and URLs of
anything else (moto, localstripe) get no token.
"""
from __future__ import annotations

import secrets
import tempfile
from collections.abc import Iterator
from pathlib import Path

import requests

from platform_services.auth import platform_clients
from platform_services.auth.api import build as build_auth
from platform_services.auth.settings import AuthSettings
from platform_services.common.config import ServiceConfig
from platform_services.common.jwt_auth import audience_of
from platform_services.common.runner import RunningService, start
from platform_services.common.service_tokens import ClientCredentials

SCOPE_PREFIXES = ("orders", "inventory", "fulfillment", "worker", "reports", "auth",
                  "billing", "notifications", "search")
ALL_SCOPES = sorted({f"{p}:{a}" for p in SCOPE_PREFIXES for a in ("read", "write", "admin")}
                    | {"tenants:admin", "ops:read", "dlq:admin"})
PLATFORM_CLIENT = "test-platform"
PLATFORM_SECRET = secrets.token_urlsafe(24)
CLIENTS_FILE = Path(tempfile.mkdtemp(prefix="meridian-clients-")) / "platform-clients.json"
platform_clients.write(CLIENTS_FILE, {PLATFORM_CLIENT: (PLATFORM_SECRET, ALL_SCOPES)})


def auth_settings(**overrides) -> AuthSettings:
    """AuthSettings that know the test platform client."""
    return AuthSettings(platform_clients_file=str(CLIENTS_FILE), **overrides)


def platform_auth(database_url: str) -> Iterator[RunningService]:
    """Fixture body: an auth service (keys in memory) for the services of a test session."""
    config = ServiceConfig(service="auth", database_url=database_url, log_format="text")
    running = start(build_auth(config, log=False, settings=auth_settings()))
    yield running
    running.stop()


def service_credentials(auth_url: str) -> dict[str, str]:
    """ServiceConfig values: trust `auth_url`, and call other services as the test client."""
    return {"auth_url": auth_url, "client_id": PLATFORM_CLIENT,
            "client_secret": PLATFORM_SECRET}


def portal_config(auth_url: str) -> dict[str, str]:
    """Portal settings that make it read the services as the test platform client."""
    return {"SERVICES_AUTH_URL": auth_url, "SERVICES_CLIENT_ID": PLATFORM_CLIENT,
            "SERVICES_CLIENT_SECRET": PLATFORM_SECRET}


def credentials(auth_url: str) -> ClientCredentials:
    """The test platform client at the auth service `auth_url`."""
    return ClientCredentials(auth_url, PLATFORM_CLIENT, PLATFORM_SECRET)


class ServiceApi(requests.Session):
    """A session that authenticates to the services it was told about (`track`)."""

    def __init__(self) -> None:
        super().__init__()
        self.services: dict[str, tuple[str, str]] = {}  # base URL → (service, auth URL)
        self._credentials: dict[str, ClientCredentials] = {}

    def track(self, running: RunningService) -> RunningService:
        """Send tokens to `running` from now on; returns it."""
        name = running.service.name
        auth_url = running.url if name == "auth" else \
            running.service.app.extensions["auth_url"]
        self.services[running.url] = (name, auth_url)
        return running

    def token(self, url: str) -> str | None:
        """A platform token for the service serving `url`, None for other URLs."""
        for base, (name, auth_url) in self.services.items():
            if url == base or url.startswith(base + "/"):
                if auth_url not in self._credentials:
                    self._credentials[auth_url] = credentials(auth_url)
                return self._credentials[auth_url].token(audience_of(name))
        return None

    def request(self, method, url, *args, **kwargs):  # noqa: D102 (requests' signature)
        headers = dict(kwargs.pop("headers", None) or {})
        if "Authorization" not in headers and kwargs.get("auth") is None:
            token = self.token(url)
            if token:
                headers["Authorization"] = f"Bearer {token}"
        return super().request(method, url, *args, headers=headers, **kwargs)


api = ServiceApi()
