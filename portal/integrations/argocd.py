"""The one client of ArgoCD's REST API (Application sync and status).

Documented calls used (https://argo-cd.readthedocs.io/en/stable/developer-guide/api-docs/):
`POST /api/v1/applications/{name}/sync` with an ApplicationSyncRequest body
(`revision`, `prune`, `dryRun`) and `GET /api/v1/applications/{name}`, both with
`Authorization: Bearer <token>`. No ArgoCD can run on the test machines, so the tests
exercise this client against a local HTTP server that checks exactly these paths,
headers and bodies (tests/unit/selfservice/test_argocd_client.py).
"""
from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

import requests

from portal.integrations.http import IDEMPOTENT, retrying_session, send

# The sync POST is retried like a GET, as this client always did: it asks for a pinned
# revision, so a repeat converges on the same state, and ArgoCD refuses a second sync while
# one is running ("another operation is already in progress") instead of queueing it.
RETRIED_METHODS = IDEMPOTENT | {"POST"}


class ArgoCDUnavailable(Exception):
    """ArgoCD did not answer (connection refused, timeout, 5xx) after the retries."""


class ArgoCDError(Exception):
    """ArgoCD answered with a refusal (unknown application, bad token, invalid request)."""


@dataclass(frozen=True)
class AppStatus:
    name: str
    sync_status: str
    health_status: str
    revision: str | None
    operation_phase: str | None


class ArgoCDClient:
    """Sync and read ArgoCD Applications with timeouts and bounded retries."""

    def __init__(self, base_url: str, token: str, *, timeout: float = 10.0,
                 retries: int = 2, backoff: float = 0.5, verify: bool = True):
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.http = retrying_session(retries=retries, backoff=backoff, methods=RETRIED_METHODS)
        self.http.headers.update({"Authorization": f"Bearer {token}",
                                  "Accept": "application/json"})
        self.http.verify = verify

    def sync(self, app: str, *, revision: str | None = None, prune: bool = False,
             dry_run: bool = False) -> AppStatus:
        """Start a sync of `app` (to `revision` when given) and return its status."""
        body = {"prune": prune, "dryRun": dry_run}
        if revision:
            body["revision"] = revision
        return _status(self._call("POST", f"/api/v1/applications/{quote(app)}/sync", body))

    def get(self, app: str) -> AppStatus:
        """The application's current sync and health status."""
        return _status(self._call("GET", f"/api/v1/applications/{quote(app)}"))

    def _call(self, method: str, path: str, body: dict | None = None) -> dict:
        return _checked(send(self.http, method, self.base_url + path, json=body,
                             timeout=self.timeout, unavailable=ArgoCDUnavailable,
                             what=f"ArgoCD at {self.base_url}"))


def _checked(response: requests.Response) -> dict:
    if response.status_code >= 400:
        try:
            message = response.json().get("message") or response.text
        except ValueError:
            message = response.text
        raise ArgoCDError(f"ArgoCD refused ({response.status_code}): {message.strip()}")
    return response.json()


def _status(app: dict) -> AppStatus:
    status = app.get("status") or {}
    return AppStatus(
        name=(app.get("metadata") or {}).get("name", ""),
        sync_status=(status.get("sync") or {}).get("status", "Unknown"),
        health_status=(status.get("health") or {}).get("status", "Unknown"),
        revision=(status.get("sync") or {}).get("revision"),
        operation_phase=(status.get("operationState") or {}).get("phase"))
