"""A threaded local HTTP server for tests: the fakes of systems that cannot run here (ArgoCD,
a carrier, a Slack webhook) and small stand-ins such as a service's /metrics.

    class Handler(QuietHandler):
        def do_GET(self):
            self.reply(200, {"ok": True})

    with LocalHTTPServer(Handler) as server:
        requests.get(server.url + "/anything")
"""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class QuietHandler(BaseHTTPRequestHandler):
    """A request handler that keeps the test output clean and answers in one call."""

    def log_message(self, *args) -> None:
        """Requests are not logged: the tests assert on them instead."""

    def reply(self, status: int, body: bytes | str | dict | list = b"",
              content_type: str | None = None) -> None:
        """Send `status` with `body` (a dict or list goes out as JSON)."""
        if isinstance(body, (dict, list)):
            body, content_type = json.dumps(body).encode(), content_type or "application/json"
        elif isinstance(body, str):
            body = body.encode()
        self.send_response(status)
        if content_type:
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def json_body(self):
        """The request's JSON body, or None when it has none."""
        length = int(self.headers.get("Content-Length") or 0)
        return json.loads(self.rfile.read(length)) if length else None


class LocalHTTPServer:
    """`handler` served on a free loopback port by a daemon thread until `stop()`."""

    def __init__(self, handler: type[BaseHTTPRequestHandler]) -> None:
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.port = self.server.server_port
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True,
                                        kwargs={"poll_interval": 0.05})

    def start(self) -> LocalHTTPServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread.is_alive():  # shutdown() would wait forever for a loop never started
            self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> LocalHTTPServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
