"""JSON logs carrying request and trace ids, and the Prometheus metrics of a service.

Metric names are a contract with the SLO specs' PromQL (platform_services/README.md):
rename one and the portal's burn-rate pages go blind.
"""
from __future__ import annotations

import contextvars
import logging
import sys

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from pythonjsonlogger.json import JsonFormatter

from platform_services.common.supervision import LoopHealth

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
trace_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("trace_id", default="-")
# Every latency SLO threshold must be a bucket bound: the SLI is the bucket at `le` over the
# count, exact only at a bound (search p95 < 150 ms, login p95 < 200 ms, order
# creation p99 < 500 ms; portal/slo/demo.py).
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class _ContextFilter(logging.Filter):
    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def filter(self, record: logging.LogRecord) -> bool:
        record.service = self.service
        record.request_id = request_id_var.get()
        record.trace_id = trace_id_var.get()
        return True


def configure_logging(service: str, level: str = "INFO", fmt: str = "json") -> None:
    """One JSON object per line on stderr with service, request id and trace id."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(_ContextFilter(service))
    if fmt == "json":
        handler.setFormatter(JsonFormatter(
            "%(asctime)s %(levelname)s %(name)s %(message)s %(service)s %(request_id)s "
            "%(trace_id)s",
            rename_fields={"asctime": "ts", "levelname": "level", "name": "logger"}))
    else:
        handler.setFormatter(logging.Formatter(
            "%(asctime)s %(levelname)s %(service)s [%(request_id)s] %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("pika").setLevel(logging.WARNING)


class Metrics:
    """RED metrics and SLI counters in a registry of the app's own (tests run many apps)."""

    def __init__(self, service: str) -> None:
        self.service = service
        r = self.registry = CollectorRegistry()
        self.requests = Counter("meridian_requests", "HTTP requests handled",
                                ["service", "route", "method", "code"], registry=r)
        self.latency = Histogram("meridian_request_duration_seconds", "HTTP request latency",
                                 ["service", "route"], buckets=LATENCY_BUCKETS, registry=r)
        self.events = Counter("meridian_business_events", "SLI events of the domain "
                              "(orders created, reservations, labels, jobs) by outcome",
                              ["service", "event", "outcome"], registry=r)
        self.messages = Counter("meridian_messages_consumed", "Broker deliveries handled",
                                ["service", "queue", "outcome"], registry=r)
        self.dead_lettered = Counter("meridian_messages_dead_lettered", "Messages sent to "
                                     "a *.dlq queue", ["service", "queue"], registry=r)
        self.published = Counter("meridian_outbox_published", "Outbox events confirmed by "
                                 "the broker", ["service", "exchange"], registry=r)
        self.outbox_pending = Gauge("meridian_outbox_pending", "Outbox events not yet "
                                    "published", ["service"], registry=r)
        self.dependency_up = Gauge("meridian_dependency_up", "1 when the last readiness "
                                   "check of a dependency passed", ["service", "dependency"],
                                   registry=r)
        self.breaker_open = Gauge("meridian_circuit_breaker_open", "1 while a circuit "
                                  "breaker is open", ["service", "dependency"], registry=r)
        self.stage_seconds = Histogram("meridian_stage_duration_seconds", "Time of async "
                                       "stages (fulfillment after confirmation, jobs)",
                                       ["service", "stage"],
                                       buckets=LATENCY_BUCKETS + (30.0, 60.0, 300.0, 600.0),
                                       registry=r)
        self.loop_idle = Gauge("meridian_loop_seconds_since_success", "Seconds since a "
                               "background loop (relay, consumer, flusher) last succeeded",
                               ["service", "loop"], registry=r)
        self.loop_lag = Gauge("meridian_loop_lag_seconds", "How far a background loop is "
                              "behind (age of the oldest event it has yet to handle)",
                              ["service", "loop"], registry=r)
        self.loops: dict[str, LoopHealth] = {}

    def watch(self, health: LoopHealth) -> None:
        """Report a started loop in /metrics and /readyz."""
        self.loops[health.name] = health
        self.loop_idle.labels(self.service, health.name).set_function(
            health.seconds_since_success)
        self.loop_lag.labels(self.service, health.name).set_function(lambda: health.lag)

    def event(self, event: str, outcome: str, amount: int = 1) -> None:
        """Count one SLI event (good or bad outcome) of this service."""
        self.events.labels(self.service, event, outcome).inc(amount)
