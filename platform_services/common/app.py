"""The WSGI app factory every service uses: probes, metrics, request ids, JSON errors.

`/healthz` says the process serves; `/readyz` checks the dependencies and names the ones
that failed. A failed *critical* dependency (PostgreSQL) answers 503 so the pod leaves the
load balancer; a failed *degradable* one (RabbitMQ, Redis, S3) answers 200 with status
`degraded`, because orders must keep persisting while RabbitMQ is down.
"""
from __future__ import annotations

import json
import logging
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Flask, Response, g, jsonify, request
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException

from platform_services.common.observability import Metrics, request_id_var, trace_id_var

log = logging.getLogger(__name__)
_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_TRACEPARENT = re.compile(r"^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$")
POOL_RETRY_AFTER_SECONDS = 1  # a pool frees a connection within milliseconds when healthy


class ApiError(Exception):
    """A client-facing error: HTTP status, machine code, message, optional field errors."""

    def __init__(self, status: int, code: str, message: str,
                 fields: dict[str, str] | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.fields = status, code, message, fields or {}
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {"error": self.code, "message": self.message}
        if self.fields:
            out["fields"] = self.fields
        return out


@dataclass(frozen=True)
class Check:
    """A readiness check: `probe` raises (or returns a reason string) when the dependency fails."""
    name: str
    probe: Callable[[], str | None]
    critical: bool = True


def create_service_app(service: str, metrics: Metrics, checks: list[Check]) -> Flask:
    """A Flask app with probes, /metrics, request/trace ids, access logs and JSON errors."""
    app = Flask(f"platform_services.{service}")
    app.config["MAX_CONTENT_LENGTH"] = 1024 * 1024
    app.extensions["metrics"] = metrics
    _install_request_hooks(app, metrics)
    _install_error_handlers(app)
    _install_probes(app, metrics, checks)
    return app


def _install_request_hooks(app: Flask, metrics: Metrics) -> None:
    access = logging.getLogger("platform_services.access")

    @app.before_request
    def _start() -> None:
        incoming = request.headers.get("X-Request-ID", "")
        g.request_id = incoming if _ID.match(incoming) else uuid.uuid4().hex
        match = _TRACEPARENT.match(request.headers.get("traceparent", ""))
        g.trace_id = match.group(1) if match else uuid.uuid4().hex
        request_id_var.set(g.request_id)
        trace_id_var.set(g.trace_id)
        g.started = time.perf_counter()

    @app.after_request
    def _finish(response: Response) -> Response:
        elapsed = time.perf_counter() - g.get("started", time.perf_counter())
        # The route template, not the path: ids in paths would explode label cardinality.
        route = request.url_rule.rule if request.url_rule else "unmatched"
        if route not in ("/metrics", "/healthz", "/readyz"):
            metrics.requests.labels(metrics.service, route, request.method,
                                    str(response.status_code)).inc()
            metrics.latency.labels(metrics.service, route).observe(elapsed)
            access.info("request", extra={"method": request.method, "path": request.path,
                                          "status": response.status_code,
                                          "duration_ms": round(elapsed * 1000, 2)})
        response.headers["X-Request-ID"] = g.get("request_id", "")
        return response


def _install_error_handlers(app: Flask) -> None:
    @app.errorhandler(ApiError)
    def _api_error(exc: ApiError):
        return jsonify(exc.body()), exc.status, exc.headers

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        code = (exc.name or "error").lower().replace(" ", "_")
        return jsonify({"error": code, "message": exc.description}), exc.code

    @app.errorhandler(PoolTimeout)
    def _pool_exhausted(exc: PoolTimeout):
        # Every connection of this process's pool is busy: a moment of overload, not a bug,
        # so the client is told to come back (the connection budget caps the pool).
        log.warning("database pool exhausted: %s", exc)
        return jsonify({"error": "overloaded", "message": "the service is busy; retry "
                                                          "shortly"}), 503, \
            {"Retry-After": str(POOL_RETRY_AFTER_SECONDS)}

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        log.exception("unhandled error")
        return jsonify({"error": "internal_error", "message": "internal error",
                        "request_id": g.get("request_id")}), 500


def run_checks(checks: list[Check], metrics: Metrics) -> tuple[int, dict[str, Any]]:
    """Run every check; the status code and the body of /readyz."""
    results: dict[str, str] = {}
    failed: list[str] = []
    degraded: list[str] = []
    for check in checks:
        try:
            reason = check.probe()
        except Exception as exc:  # any failure of a probe means "not ready"; say which
            reason = f"{type(exc).__name__}: {exc}"[:300]
        ok = reason is None or reason.startswith("not configured")
        results[check.name] = "ok" if reason is None else reason
        metrics.dependency_up.labels(metrics.service, check.name).set(1 if ok else 0)
        if not ok:
            (failed if check.critical else degraded).append(check.name)
    for name, health in metrics.loops.items():
        # A stalled loop never takes the pod out of the load balancer: requests are still
        # served and persisted, and every pod would fail alike in a shared outage.
        reason = health.problem()
        results[f"loop:{name}"] = reason or "ok"
        if reason is not None:
            degraded.append(f"loop:{name}")
    status = "unavailable" if failed else ("degraded" if degraded else "ok")
    body = {"status": status, "service": metrics.service, "failed": failed + degraded,
            "checks": results}
    return (503 if failed else 200), body


def _install_probes(app: Flask, metrics: Metrics, checks: list[Check]) -> None:
    @app.get("/healthz")
    def healthz():
        return jsonify({"status": "ok", "service": metrics.service})

    @app.get("/readyz")
    def readyz():
        status, body = run_checks(checks, metrics)
        return jsonify(body), status

    @app.get("/metrics")
    def metrics_endpoint():
        return Response(generate_latest(metrics.registry), mimetype=CONTENT_TYPE_LATEST)


MAX_DEPTH = 32
# The widest integer any column holds (BIGINT); narrower columns check their own bounds.
MAX_INT = 2**63 - 1


def _check_document(data: Any) -> None:
    """400 for NUL characters (PostgreSQL text refuses them), 422 for integers no column
    holds, 400 for nesting deeper than MAX_DEPTH; iterative, so depth cannot recurse."""
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise ApiError(400, "malformed_json", f"JSON nested deeper than {MAX_DEPTH} levels")
        if isinstance(value, dict):
            for key, item in value.items():
                if "\x00" in key:
                    raise ApiError(400, "malformed_json", "NUL characters are not allowed")
                stack.append((item, depth + 1))
        elif isinstance(value, list):
            stack.extend((item, depth + 1) for item in value)
        elif isinstance(value, str) and "\x00" in value:
            raise ApiError(400, "malformed_json", "NUL characters are not allowed")
        elif isinstance(value, int) and not isinstance(value, bool) \
                and not -MAX_INT - 1 <= value <= MAX_INT:
            raise ApiError(422, "invalid", "a number is out of range",
                           {"body": f"integers from {-MAX_INT - 1} to {MAX_INT}"})


def json_body() -> dict[str, Any]:
    """The request's JSON object, or a 400/413/415/422 ApiError that says what is wrong."""
    if not request.is_json:
        raise ApiError(415, "unsupported_media_type", "send a JSON body (Content-Type: "
                                                      "application/json)")
    raw = request.get_data(cache=True)  # MAX_CONTENT_LENGTH makes a larger body a 413
    try:
        data = json.loads(raw)
    except RecursionError as exc:
        raise ApiError(400, "malformed_json", f"JSON nested deeper than {MAX_DEPTH} "
                                              "levels") from exc
    except ValueError as exc:  # not JSON, not UTF-8, or an integer of too many digits
        raise ApiError(400, "malformed_json", "the request body is not valid JSON") from exc
    _check_document(data)
    if not isinstance(data, dict):
        raise ApiError(422, "invalid", "the JSON body must be an object")
    return data
