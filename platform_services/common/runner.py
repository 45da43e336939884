"""Running a service: its HTTP server plus background threads (outbox relay, consumers),
with graceful shutdown on SIGTERM/SIGINT: stop taking requests, let the threads finish
the message or batch in hand, close the pools.

In production a service runs as two process types: web processes under gunicorn
(`platform_services.wsgi`), each running only its `PerProcess` workers, and one
`python -m platform_services background <service>` running the others once per service.
`start()` runs everything in one process (tests, benchmarks).
"""
from __future__ import annotations

import logging
import signal
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from flask import Flask
from sqlalchemy.engine import Engine
from werkzeug.serving import BaseWSGIServer, ThreadedWSGIServer, make_server

log = logging.getLogger(__name__)
GUNICORN_CONF = "python:platform_services.gunicorn_conf"


class Background(Protocol):
    def start(self) -> None: ...

    def stop(self) -> None: ...

    def join(self, timeout: float | None = None) -> None: ...


@dataclass
class PerProcess:
    """A worker each web process runs for itself because it handles what that process
    gathered (e.g. its in-memory API-usage counts), unlike the once-per-service others."""
    worker: Background

    def start(self) -> None:
        self.worker.start()

    def stop(self) -> None:
        self.worker.stop()

    def join(self, timeout: float | None = None) -> None:
        self.worker.join(timeout)


@dataclass
class Service:
    """A built service: the WSGI app, its background threads and what to close at exit."""
    name: str
    app: Flask
    workers: list[Background] = field(default_factory=list)
    engines: list[Engine] = field(default_factory=list)
    on_close: list[Callable[[], None]] = field(default_factory=list)
    started: list[Background] = field(default_factory=list)

    @property
    def web_workers(self) -> list[Background]:
        """The workers every web process runs for itself."""
        return [w for w in self.workers if isinstance(w, PerProcess)]

    @property
    def background_workers(self) -> list[Background]:
        """The workers that run once per service (relay, consumers, flushers)."""
        return [w for w in self.workers if not isinstance(w, PerProcess)]

    def start_workers(self, workers: list[Background] | None = None) -> None:
        """Start `workers` (default: all of them, for a single-process service)."""
        for worker in self.workers if workers is None else workers:
            worker.start()
            self.started.append(worker)

    def close(self, timeout: float = 20.0) -> None:
        """Stop the threads (each finishes what it holds), then release connections."""
        for worker in self.started:
            worker.stop()
        for worker in self.started:
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
    assert isinstance(server, ThreadedWSGIServer)  # what threaded=True builds
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name=f"http-{service.name}",
                              daemon=True)
    thread.start()
    service.start_workers()
    return RunningService(service, server, thread)


HEARTBEAT_SECONDS = 10.0


def _until_signalled(every: Callable[[], None] | None = None) -> None:
    """Block until SIGTERM or SIGINT, calling `every` each HEARTBEAT_SECONDS meanwhile."""
    stop = threading.Event()

    def _signal(signum, _frame) -> None:
        log.info("signal %s: shutting down", signum)
        stop.set()

    signal.signal(signal.SIGTERM, _signal)
    signal.signal(signal.SIGINT, _signal)
    if every is None:
        stop.wait()
        return
    every()
    while not stop.wait(HEARTBEAT_SECONDS):
        every()


def _beat(service: Service, path: Path) -> Callable[[], None]:
    """Touch `path` while no loop thread of `service` has died. A stale loop (an outage)
    still beats: restarting the pod would not bring the database back."""
    def beat() -> None:
        metrics = service.app.extensions.get("metrics")
        loops = metrics.loops.values() if metrics is not None else ()
        dead = [h.name for h in loops if (h.problem() or "").startswith("dead")]
        if dead:
            log.error("not beating: loop thread ended: %s", ", ".join(dead))
            return
        path.touch()
    return beat


def serve_forever(service: Service, host: str, port: int) -> None:
    """Serve in the foreground until SIGTERM or SIGINT, then shut down gracefully."""
    running = start(service, host, port)
    log.info("%s listening on %s", service.name, running.url)
    _until_signalled()
    running.stop()
    log.info("%s stopped", service.name)


def run_background(service: Service, heartbeat: str | None = None) -> None:
    """Run the service's once-per-service workers until SIGTERM or SIGINT (no HTTP),
    touching the file `heartbeat` (when given) while they live."""
    workers = service.background_workers
    if not workers:
        log.info("%s has no background work", service.name)
        service.close()
        return
    service.start_workers(workers)
    log.info("%s background: %s", service.name,
             ", ".join(getattr(w, "name", type(w).__name__) for w in workers))
    _until_signalled(_beat(service, Path(heartbeat)) if heartbeat else None)
    service.close()
    log.info("%s background stopped", service.name)


def web_command(service: str, host: str, port: int,
                python: str = sys.executable) -> list[str]:
    """The argv of `service`'s production web process: gunicorn on host:port."""
    return [python, "-m", "gunicorn", "-c", GUNICORN_CONF, "--bind", f"{host}:{port}",
            f"platform_services.wsgi:create({service!r})"]


def background_command(service: str, python: str = sys.executable) -> list[str]:
    """The argv of `service`'s background process (it exits at once when there is none)."""
    return [python, "-m", "platform_services", "background", service]
