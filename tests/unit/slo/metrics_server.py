"""A small local HTTP server exposing Prometheus text format from a prometheus_client
registry, standing in for a platform service's /metrics."""
from __future__ import annotations

import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import CollectorRegistry, Counter, generate_latest


class FakeService:
    """Request counters by service and status code, advanced by the test."""

    def __init__(self, slug: str):
        self.slug = slug
        self.registry = CollectorRegistry()
        self.requests = Counter("http_requests", "Requests", ["service", "code"],
                                registry=self.registry)
        self.up = True

    def serve(self, good: int, bad: int) -> None:
        self.requests.labels(self.slug, "200").inc(good)
        self.requests.labels(self.slug, "503").inc(bad)

    def restart(self) -> None:
        """Counters start from zero again, as after a process restart."""
        self.requests.clear()


@contextmanager
def metrics_server(service: FakeService):
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            if self.path != "/metrics" or not service.up:
                self.send_error(404 if service.up else 503)
                return
            body = generate_latest(service.registry)
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
