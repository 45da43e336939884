"""A local HTTP server standing in for ArgoCD's REST API (no ArgoCD can run here).

It accepts only the documented calls the portal makes, and fails a request that deviates:

- `POST /api/v1/applications/{name}/sync` with a JSON ApplicationSyncRequest body (only the
  documented keys revision, prune, dryRun, strategy, resources, syncOptions);
- `GET /api/v1/applications/{name}` with only the documented query parameters (refresh,
  project, resourceVersion, selector, appNamespace; refresh is `normal` or `hard`),
  answering a v1alpha1.Application: status.sync {status, revision}, status.health
  {status, message}, status.operationState {phase, message, syncResult.revision,
  startedAt, finishedAt} and status.resources[] {group, version, kind, namespace, name,
  status, health};
- `GET /api/v1/applications/{applicationName}/managed-resources` (query parameters
  namespace, name, version, group, kind), answering {items: [ResourceDiff]} whose
  targetState, liveState and normalizedLiveState are JSON documents inside strings, as
  ArgoCD sends them;

each with `Authorization: Bearer <token>`. Every request is recorded for assertions.

After a (non-dry-run) sync the Application is Progressing; each following GET takes the
next health from `rollout[name]` (default: Healthy at once), so tests can script a rollout
that ends Healthy, Degraded or never settles. `apps[name]["live_tag"]` and
`["target_tag"]` are the image tags running and declared in git.
"""
from __future__ import annotations

import json
import re
from urllib.parse import parse_qs, urlsplit

from tests.httpserver import LocalHTTPServer, QuietHandler

SYNC_KEYS = {"revision", "prune", "dryRun", "strategy", "resources", "syncOptions"}
GET_QUERY = {"refresh", "project", "resourceVersion", "selector", "appNamespace"}
RESOURCE_QUERY = {"namespace", "name", "version", "group", "kind"}
APP_PATH = re.compile(r"^/api/v1/applications/([a-z0-9-]+)(/sync|/managed-resources)?$")
REGISTRY = "registry.meridian.internal/meridian"
DEGRADED = 'Deployment "{app}" exceeded its progress deadline'


class FakeArgoCD:
    def __init__(self, token: str = "test-token", apps: set[str] | None = None):
        self.token = token
        self.apps = {name: {"revision": None, "status": "OutOfSync", "health": "Healthy",
                            "phase": None, "live_tag": "v4.2.0", "target_tag": "v4.2.0"}
                     for name in apps or ()}
        self.rollout: dict[str, list[str]] = {}
        self.pending: dict[str, list[str]] = {}
        self.requests: list[tuple[str, str, dict | None]] = []
        self.down = False
        self.server = LocalHTTPServer(self._handler())
        self.url = self.server.url

    def __enter__(self):
        self.server.start()
        return self

    def __exit__(self, *exc):
        self.server.stop()

    def resources(self, name: str) -> list[dict]:
        """status.resources[] of the app: its Deployment (health of the app) and Service."""
        app = self.apps[name]
        namespace = f"meridian-{name.rsplit('-', 1)[-1]}"
        message = DEGRADED.format(app=name) if app["health"] == "Degraded" else None
        deployment = {"status": app["health"], **({"message": message} if message else {})}
        return [{"group": "apps", "version": "v1", "kind": "Deployment", "namespace": namespace,
                 "name": name, "status": app["status"], "health": deployment},
                {"group": "", "version": "v1", "kind": "Service", "namespace": namespace,
                 "name": name, "status": "Synced", "health": {"status": "Healthy"}}]

    def app_json(self, name: str) -> dict:
        app = self.apps[name]
        operation = ({"phase": app["phase"], "message": "successfully synced (all tasks run)",
                      "syncResult": {"revision": app["revision"]},
                      "startedAt": "2026-12-07T09:00:00Z", "finishedAt": "2026-12-07T09:00:05Z"}
                     if app["phase"] else None)
        status = {"sync": {"status": app["status"], "revision": app["revision"]},
                  "health": {"status": app["health"]}, "resources": self.resources(name)}
        if operation:
            status["operationState"] = operation
        return {"metadata": {"name": name, "namespace": "argocd"}, "status": status}

    def managed_resources(self, name: str) -> dict:
        """The ResourceDiff items: git's Deployment at target_tag, the cluster's at live_tag."""
        app = self.apps[name]
        service = name.rsplit("-", 1)[0]
        namespace = f"meridian-{name.rsplit('-', 1)[-1]}"

        def deployment(tag: str, live: bool) -> dict:
            doc = {"apiVersion": "apps/v1", "kind": "Deployment",
                   "metadata": {"name": name, "namespace": namespace,
                                "labels": {"app.kubernetes.io/name": service}},
                   "spec": {"replicas": 3, "template": {"spec": {"containers": [
                       {"name": service, "image": f"{REGISTRY}/{service}:{tag}",
                        "ports": [{"containerPort": 8080}]}]}}}}
            if live:  # what the cluster adds; ArgoCD's normalized state leaves it out
                doc["metadata"]["resourceVersion"] = "48213"
                doc["status"] = {"readyReplicas": 3}
            return doc

        target = deployment(app["target_tag"], live=False)
        live = deployment(app["live_tag"], live=True)
        normalized = {k: v for k, v in live.items() if k != "status"}
        normalized["metadata"] = {k: v for k, v in live["metadata"].items()
                                  if k != "resourceVersion"}
        service_doc = {"apiVersion": "v1", "kind": "Service",
                       "metadata": {"name": name, "namespace": namespace},
                       "spec": {"ports": [{"port": 80, "targetPort": 8080}]}}
        return {"items": [
            {"group": "apps", "kind": "Deployment", "namespace": namespace, "name": name,
             "targetState": json.dumps(target), "liveState": json.dumps(live),
             "normalizedLiveState": json.dumps(normalized), "hook": False,
             "modified": app["target_tag"] != app["live_tag"]},
            {"group": "", "kind": "Service", "namespace": namespace, "name": name,
             "targetState": json.dumps(service_doc), "liveState": json.dumps(service_doc),
             "normalizedLiveState": json.dumps(service_doc), "hook": False,
             "modified": False}]}

    def _sync(self, name: str, body: dict) -> None:
        if body.get("dryRun"):
            return
        self.apps[name].update(revision=body.get("revision"), status="Synced",
                               health="Progressing", phase="Succeeded")
        self.pending[name] = list(self.rollout.get(name, ["Healthy"]))

    def _read(self, name: str) -> None:
        if self.pending.get(name):
            self.apps[name]["health"] = self.pending[name].pop(0)

    def _handler(self):
        fake = self

        class Handler(QuietHandler):
            def _refusal(self, method: str, url, body) -> tuple[int, str] | None:
                if self.headers.get("Authorization") != f"Bearer {fake.token}":
                    return 401, "invalid session: token is invalid"
                match = APP_PATH.match(url.path)
                if not match:
                    return 404, f"no route {method} {url.path}"
                sub = match.group(2)
                if (method == "POST") != (sub == "/sync"):
                    return 404, f"no route {method} {url.path}"
                query = parse_qs(url.query, keep_blank_values=True)
                allowed = {None: GET_QUERY, "/managed-resources": RESOURCE_QUERY}.get(sub, set())
                if set(query) - allowed:
                    return 400, f"unknown query parameters {sorted(set(query) - allowed)}"
                if query.get("refresh", ["normal"]) not in (["normal"], ["hard"]):
                    return 400, f"refresh must be normal or hard, not {query['refresh']}"
                if match.group(1) not in fake.apps:
                    return 404, f'applications.argoproj.io "{match.group(1)}" not found'
                if method == "POST" and (not isinstance(body, dict) or set(body) - SYNC_KEYS):
                    return 400, f"bad sync request {body!r}"
                return None

            def _route(self, method: str):
                if fake.down:
                    return self.reply(503, {"message": "upstream down"})
                body = self.json_body()
                fake.requests.append((method, self.path, body))
                url = urlsplit(self.path)
                refusal = self._refusal(method, url, body)
                if refusal:
                    return self.reply(refusal[0], {"message": refusal[1]})
                name, sub = APP_PATH.match(url.path).groups()
                if sub == "/managed-resources":
                    return self.reply(200, fake.managed_resources(name))
                if method == "POST":
                    fake._sync(name, body)
                else:
                    fake._read(name)
                return self.reply(200, fake.app_json(name))

            def do_GET(self):
                self._route("GET")

            def do_POST(self):
                self._route("POST")

        return Handler
