"""Running a service: its HTTP server plus background threads (outbox relay, consumers),
with graceful shutdown on SIGTERM/SIGINT: stop taking requests, let the threads finish
the message or batch in hand, close the pools.
"""
from __future__ import annotations

import logging
import signal
import threading
from dataclasses import dataclass, field
from typing import Callable, Protocol

from flask import Flask
from sqlalchemy.engine import Engine
from werkzeug.serving import BaseWSGIServer, make_server

log = logging.getLogger(__name__)


class Background(Protocol):
    def start(self) -> None: ...

    def stop(self) -> None: ...

    def join(self, timeout: float | None = None) -> None: ...


@dataclass
class Service:
    """A built service: the WSGI app, its background threads and what to close at exit."""
    name: str
    app: Flask
    workers: list[Background] = field(default_factory=list)
    engines: list[Engine] = field(default_factory=list)
    on_close: list[Callable[[], None]] = field(default_factory=list)

    def start_workers(self) -> None:
        """Start the relay and consumers."""
        for worker in self.workers:
            worker.start()

    def close(self, timeout: float = 20.0) -> None:
        """Stop the threads (each finishes what it holds), then release connections."""
        for worker in self.workers:
            worker.stop()
        for worker in self.workers:
            worker.join(timeout)
        for hook in self.on_close:
            hook()
        for engine in self.engines:
            engine.dispose()


@dataclass
class RunningService:
    """A service served on a background thread (tests, benchmarks, `portal dev`)."""
    service: Service
    server: BaseWSGIServer
    thread: threading.Thread

    @property
    def url(self) -> str:
        return f"http://{self.server.host}:{self.server.port}"

    def stop(self) -> None:
        """Shut the server down, then the service's threads."""
        self.server.shutdown()
        self.thread.join(10)
        self.server.server_close()
        self.service.close()


def start(service: Service, host: str = "127.0.0.1", port: int = 0) -> RunningService:
    """Serve `service` on a thread (port 0 picks a free one) and start its workers."""
    server = make_server(host, port, service.app, threaded=True)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name=f"http-{service.name}",
                              daemon=True)
    thread.start()
    service.start_workers()
    return RunningService(service, server, thread)


def serve_forever(service: Service, host: str, port: int) -> None:
    """Serve in the foreground until SIGTERM or SIGINT, then shut down gracefully."""
    running = start(service, host, port)
    stop = threading.Event()

    def _signal(signum, _frame) -> None:
        log.info("signal %s: shutting down", signum)
        stop.set()

    signal.signal(signal.SIGTERM, _signal)
    signal.signal(signal.SIGINT, _signal)
    log.info("%s listening on %s", service.name, running.url)
    stop.wait()
    running.stop()
    log.info("%s stopped", service.name)
