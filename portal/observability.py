"""Operability of the portal itself: request ids, JSON logs, RED metrics, health probes."""
from __future__ import annotations

import logging
import os
import re
import sys
import time
import uuid

from flask import Blueprint, Flask, Response, current_app, g, jsonify, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from pythonjsonlogger.json import JsonFormatter
from sqlalchemy import text

from portal.extensions import csrf, db

bp = Blueprint("ops", __name__)
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class _RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            record.request_id = g.get("request_id", "-")
        except RuntimeError:  # outside a request or app context
            record.request_id = "-"
        return True


def configure_logging(level: str, fmt: str) -> None:
    """Send logs to stderr, one JSON object per line (or plain text), with the request id."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(_RequestIdFilter())
    if fmt == "json":
        handler.setFormatter(JsonFormatter(
            "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
            rename_fields={"asctime": "ts", "levelname": "level", "name": "logger"}))
    else:
        handler.setFormatter(logging.Formatter(
            "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)


class Metrics:
    """RED metrics per endpoint, in a registry of the app's own (tests build many apps)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("portal_http_requests_total", "HTTP requests handled",
                                ["method", "endpoint", "status"], registry=self.registry)
        self.latency = Histogram("portal_http_request_duration_seconds",
                                 "HTTP request latency", ["method", "endpoint"],
                                 buckets=_BUCKETS, registry=self.registry)

    def observe(self, response: Response) -> Response:
        endpoint = request.url_rule.endpoint if request.url_rule else "unmatched"
        elapsed = time.perf_counter() - g.get("started_at", time.perf_counter())
        g.elapsed_ms = round(1000 * elapsed, 2)
        self.requests.labels(request.method, endpoint, str(response.status_code)).inc()
        self.latency.labels(request.method, endpoint).observe(elapsed)
        return response


def init_app(app: Flask) -> None:
    """Attach request ids, access logs and metrics to every request."""
    metrics = Metrics()
    app.extensions["portal_metrics"] = metrics
    access_log = logging.getLogger("portal.access")

    @app.before_request
    def _start() -> None:
        incoming = request.headers.get("X-Request-ID", "")
        g.request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        g.started_at = time.perf_counter()

    @app.after_request
    def _finish(response: Response) -> Response:
        response.headers["X-Request-ID"] = g.get("request_id", "")
        metrics.observe(response)
        if request.endpoint not in {"ops.metrics", "ops.healthz", "static"}:
            access_log.info("%s %s %s", request.method, request.path, response.status_code,
                            extra={"method": request.method, "path": request.path,
                                   "status": response.status_code,
                                   "duration_ms": g.elapsed_ms})
        return response

    csrf.exempt(bp)
    app.register_blueprint(bp)


@bp.get("/healthz")
def healthz():
    """The process is alive and answering."""
    return jsonify(status="ok")


def _check_database() -> str:
    with db.engine.connect() as conn:
        conn.execute(text("SELECT 1"))
    return "ok"


def _check_broker() -> str:
    celery = current_app.extensions["celery"]
    with celery.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=2)
    return "ok"


@bp.get("/readyz")
def readyz():
    """Database and broker reachable: 200, or 503 naming the one that failed."""
    checks, ready = {}, True
    for name, check in (("database", _check_database), ("broker", _check_broker)):
        try:
            checks[name] = check()
        except Exception as exc:  # any failure of a dependency means "not ready"
            checks[name] = f"error: {type(exc).__name__}: {exc}"[:300]
            ready = False
    body = {"status": "ready" if ready else "unavailable", "checks": checks}
    return jsonify(body), 200 if ready else 503


@bp.get("/metrics")
def metrics():
    """Prometheus exposition of the portal's RED metrics."""
    registry = current_app.extensions["portal_metrics"].registry
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # Under gunicorn each worker writes its samples to files; aggregate them all.
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)
