"""A local HTTP server standing in for ArgoCD's REST API (no ArgoCD can run here).

It accepts only the documented calls the portal makes, and fails a request that deviates:
`POST /api/v1/applications/{name}/sync` with a JSON ApplicationSyncRequest body (only the
documented keys revision, prune, dryRun, strategy, resources, syncOptions) and
`GET /api/v1/applications/{name}`, each with `Authorization: Bearer <token>`. Every
request is recorded for assertions.
"""
from __future__ import annotations

import re

from tests.httpserver import LocalHTTPServer, QuietHandler

SYNC_KEYS = {"revision", "prune", "dryRun", "strategy", "resources", "syncOptions"}
APP_PATH = re.compile(r"^/api/v1/applications/([a-z0-9-]+)(/sync)?$")


class FakeArgoCD:
    def __init__(self, token: str = "test-token", apps: set[str] | None = None):
        self.token = token
        self.apps = {name: {"revision": None, "status": "OutOfSync"} for name in apps or ()}
        self.requests: list[tuple[str, str, dict | None]] = []
        self.down = False
        self.server = LocalHTTPServer(self._handler())
        self.url = self.server.url

    def __enter__(self):
        self.server.start()
        return self

    def __exit__(self, *exc):
        self.server.stop()

    def app_json(self, name: str) -> dict:
        app = self.apps[name]
        return {"metadata": {"name": name, "namespace": "argocd"},
                "status": {"sync": {"status": app["status"], "revision": app["revision"]},
                           "health": {"status": "Healthy"},
                           "operationState": {"phase": "Succeeded" if app["revision"] else None}}}

    def _handler(self):
        fake = self

        class Handler(QuietHandler):
            def _route(self, method: str):
                if fake.down:
                    return self.reply(503, {"message": "upstream down"})
                body = self.json_body()
                fake.requests.append((method, self.path, body))
                if self.headers.get("Authorization") != f"Bearer {fake.token}":
                    return self.reply(401, {"message": "invalid session: token is invalid"})
                match = APP_PATH.match(self.path)
                if not match or (method == "POST") != bool(match.group(2)):
                    return self.reply(404, {"message": f"no route {method} {self.path}"})
                name = match.group(1)
                if name not in fake.apps:
                    return self.reply(404, {"message": f"applications.argoproj.io \"{name}\" not found"})
                if method == "POST":
                    if not isinstance(body, dict) or set(body) - SYNC_KEYS:
                        return self.reply(400, {"message": f"bad sync request {body!r}"})
                    if not body.get("dryRun"):
                        fake.apps[name] = {"revision": body.get("revision"), "status": "Synced"}
                return self.reply(200, fake.app_json(name))

            def do_GET(self):
                self._route("GET")

            def do_POST(self):
                self._route("POST")

        return Handler
