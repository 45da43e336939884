"""A small local HTTP server exposing Prometheus text format from a prometheus_client
registry, standing in for a platform service's /metrics."""
from __future__ import annotations

from contextlib import contextmanager

from prometheus_client import CollectorRegistry, Counter, generate_latest

from tests.httpserver import LocalHTTPServer, QuietHandler


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
    class Handler(QuietHandler):
        def do_GET(self):  # noqa: N802
            if self.path != "/metrics" or not service.up:
                self.send_error(404 if service.up else 503)
                return
            self.reply(200, generate_latest(service.registry), "text/plain; version=0.0.4")

    with LocalHTTPServer(Handler) as server:
        yield server.url
