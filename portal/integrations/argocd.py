"""The one client of ArgoCD's REST API (Application sync and status).

Documented calls used (https://argo-cd.readthedocs.io/en/stable/developer-guide/api-docs/):
`POST /api/v1/applications/{name}/sync` with an ApplicationSyncRequest body
(`revision`, `prune`, `dryRun`), `GET /api/v1/applications/{name}` (optionally with
`?refresh=normal`, which makes ArgoCD compare with git again before answering) and
`GET /api/v1/applications/{applicationName}/managed-resources` (a ResourceDiff per
resource: `targetState`, `liveState`, `normalizedLiveState` as JSON-encoded strings), all
with `Authorization: Bearer <token>`. No ArgoCD can run on the test machines, so the tests
exercise this client against a local HTTP server that checks exactly these paths, query
parameters, headers and bodies (tests/fake_argocd.py).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from urllib.parse import quote

import requests

from portal.integrations.http import IDEMPOTENT, retrying_session, send

REFRESH_MODES = ("normal", "hard")
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


@dataclass(frozen=True)
class ResourceStatus:
    """One resource of an Application (status.resources[]): its sync and health."""
    group: str
    kind: str
    namespace: str
    name: str
    sync_status: str
    health_status: str | None
    health_message: str | None


@dataclass(frozen=True)
class Application:
    """The parts of an Application's status the portal shows after a deploy."""
    name: str
    sync_status: str
    revision: str | None
    health_status: str
    health_message: str | None
    operation_phase: str | None
    operation_message: str | None
    operation_revision: str | None
    finished_at: str | None
    resources: tuple[ResourceStatus, ...]


@dataclass(frozen=True)
class ResourceDiff:
    """One managed resource's desired (git) and live state, decoded from ArgoCD's JSON strings."""
    group: str
    kind: str
    namespace: str
    name: str
    target_state: dict | None
    live_state: dict | None
    normalized_live_state: dict | None
    modified: bool


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
        body: dict[str, bool | str] = {"prune": prune, "dryRun": dry_run}
        if revision:
            body["revision"] = revision
        return _status(self._call("POST", f"/api/v1/applications/{quote(app)}/sync", body))

    def get(self, app: str) -> AppStatus:
        """The application's current sync and health status."""
        return _status(self._call("GET", f"/api/v1/applications/{quote(app)}"))

    def application(self, app: str, *, refresh: str | None = None) -> Application:
        """The application's sync, health, last operation and per-resource status;
        `refresh` ("normal" or "hard") makes ArgoCD compare with git first."""
        if refresh is not None and refresh not in REFRESH_MODES:
            raise ValueError(f"refresh is one of {REFRESH_MODES}")
        params = {"refresh": refresh} if refresh else None
        return _application(self._call("GET", f"/api/v1/applications/{quote(app)}",
                                       params=params))

    def managed_resources(self, app: str) -> list[ResourceDiff]:
        """Every managed resource's target and live state (what a sync would change)."""
        found = self._call("GET", f"/api/v1/applications/{quote(app)}/managed-resources")
        return [_resource_diff(item) for item in found.get("items") or []]

    def _call(self, method: str, path: str, body: dict | None = None,
              params: dict | None = None) -> dict:
        return _checked(send(self.http, method, self.base_url + path, json=body,
                             params=params, timeout=self.timeout,
                             unavailable=ArgoCDUnavailable, what=f"ArgoCD at {self.base_url}"))


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


def _application(app: dict) -> Application:
    status = app.get("status") or {}
    sync, health = status.get("sync") or {}, status.get("health") or {}
    operation = status.get("operationState") or {}
    return Application(
        name=(app.get("metadata") or {}).get("name", ""),
        sync_status=sync.get("status", "Unknown"), revision=sync.get("revision"),
        health_status=health.get("status", "Unknown"), health_message=health.get("message"),
        operation_phase=operation.get("phase"), operation_message=operation.get("message"),
        operation_revision=(operation.get("syncResult") or {}).get("revision"),
        finished_at=operation.get("finishedAt"),
        resources=tuple(_resource_status(r) for r in status.get("resources") or []))


def _resource_status(item: dict) -> ResourceStatus:
    health = item.get("health") or {}
    return ResourceStatus(group=item.get("group", ""), kind=item.get("kind", ""),
                          namespace=item.get("namespace", ""), name=item.get("name", ""),
                          sync_status=item.get("status", "Unknown"),
                          health_status=health.get("status"),
                          health_message=health.get("message"))


def _decoded(state: str | None) -> dict | None:
    # ArgoCD sends each state as a JSON document inside a string; "null" means absent.
    if not state:
        return None
    try:
        value = json.loads(state)
    except ValueError as exc:
        raise ArgoCDError(f"ArgoCD sent a resource state that is not JSON: {exc}") from exc
    return value if isinstance(value, dict) else None


def _resource_diff(item: dict) -> ResourceDiff:
    return ResourceDiff(group=item.get("group", ""), kind=item.get("kind", ""),
                        namespace=item.get("namespace", ""), name=item.get("name", ""),
                        target_state=_decoded(item.get("targetState")),
                        live_state=_decoded(item.get("liveState")),
                        normalized_live_state=_decoded(item.get("normalizedLiveState")),
                        modified=bool(item.get("modified")))
