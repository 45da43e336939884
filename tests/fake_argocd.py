"""A local HTTP server standing in for ArgoCD's REST API (no ArgoCD can run here).

It accepts only the documented calls the portal makes, and fails a request that deviates:
`POST /api/v1/applications/{name}/sync` with a JSON ApplicationSyncRequest body (only the
documented keys revision, prune, dryRun, strategy, resources, syncOptions) and
`GET /api/v1/applications/{name}`, each with `Authorization: Bearer <token>`. Every
request is recorded for assertions.
"""
from __future__ import annotations

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SYNC_KEYS = {"revision", "prune", "dryRun", "strategy", "resources", "syncOptions"}
APP_PATH = re.compile(r"^/api/v1/applications/([a-z0-9-]+)(/sync)?$")


class FakeArgoCD:
    def __init__(self, token: str = "test-token", apps: set[str] | None = None):
        self.token = token
        self.apps = {name: {"revision": None, "status": "OutOfSync"} for name in apps or ()}
        self.requests: list[tuple[str, str, dict | None]] = []
        self.down = False
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    def app_json(self, name: str) -> dict:
        app = self.apps[name]
        return {"metadata": {"name": name, "namespace": "argocd"},
                "status": {"sync": {"status": app["status"], "revision": app["revision"]},
                           "health": {"status": "Healthy"},
                           "operationState": {"phase": "Succeeded" if app["revision"] else None}}}

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _reply(self, status: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _route(self, method: str):
                if fake.down:
                    return self._reply(503, {"message": "upstream down"})
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length)) if length else None
                fake.requests.append((method, self.path, body))
                if self.headers.get("Authorization") != f"Bearer {fake.token}":
                    return self._reply(401, {"message": "invalid session: token is invalid"})
                match = APP_PATH.match(self.path)
                if not match or (method == "POST") != bool(match.group(2)):
                    return self._reply(404, {"message": f"no route {method} {self.path}"})
                name = match.group(1)
                if name not in fake.apps:
                    return self._reply(404, {"message": f"applications.argoproj.io \"{name}\" not found"})
                if method == "POST":
                    if not isinstance(body, dict) or set(body) - SYNC_KEYS:
                        return self._reply(400, {"message": f"bad sync request {body!r}"})
                    if not body.get("dryRun"):
                        fake.apps[name] = {"revision": body.get("revision"), "status": "Synced"}
                return self._reply(200, fake.app_json(name))

            def do_GET(self):
                self._route("GET")

            def do_POST(self):
                self._route("POST")

        return Handler
