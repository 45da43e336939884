"""Thin client of the platform services' operational endpoints (/readyz, /metrics).

Timeouts are short because the catalog page polls it; one immediate retry (through
portal.integrations.http) covers a connection reset; answers are never retried, since a 503
from /readyz carries the per-dependency checks. A service that cannot be reached raises
ServiceUnavailable.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import requests
from prometheus_client.parser import text_string_to_metric_families

from portal.integrations.http import retrying_session

TIMEOUT = (1.0, 2.0)  # connect, read (seconds)


class ServiceUnavailable(Exception):
    """The service did not answer (refused, timed out, or not JSON/Prometheus text)."""


@dataclass(frozen=True)
class Readiness:
    status: str  # ok | degraded | unavailable
    failed: list[str]
    checks: dict[str, str]


@dataclass(frozen=True)
class Red:
    """Rate/errors/duration since the service started, from its /metrics."""
    requests: float
    errors: float
    p99_seconds: float | None
    dead_lettered: float
    outbox_pending: float | None
    breaker_open: list[str] = field(default_factory=list)

    @property
    def error_ratio(self) -> float:
        return self.errors / self.requests if self.requests else 0.0


def _get(url: str) -> requests.Response:
    # A session per probe, as requests.get does: no cookies or connections shared between
    # the services (and the portal's threads) that the panel polls.
    try:
        with retrying_session(retries=1, backoff=0, methods={"GET"}, statuses=()) as http:
            return http.get(url, timeout=TIMEOUT)
    except requests.RequestException as exc:
        raise ServiceUnavailable(f"{url}: {exc.__class__.__name__}") from exc


def readiness(base_url: str) -> Readiness:
    """The service's /readyz answer (200 and 503 both carry the per-dependency checks)."""
    response = _get(base_url.rstrip("/") + "/readyz")
    try:
        body = response.json()
        return Readiness(str(body["status"]), list(body.get("failed", [])),
                         dict(body.get("checks", {})))
    except (ValueError, KeyError, TypeError) as exc:
        raise ServiceUnavailable(f"unexpected /readyz answer ({response.status_code})") from exc


def _p99(buckets: dict[float, float]) -> float | None:
    """The upper bound of the bucket holding the 99th percentile (as histogram_quantile)."""
    total = buckets.get(float("inf"), 0.0)
    if not total:
        return None
    for bound in sorted(buckets):
        if buckets[bound] >= 0.99 * total:
            return bound if bound != float("inf") else None
    return None


def red(base_url: str) -> Red:
    """Key RED numbers parsed from the service's Prometheus metrics."""
    response = _get(base_url.rstrip("/") + "/metrics")
    if response.status_code != 200:
        raise ServiceUnavailable(f"/metrics answered {response.status_code}")
    total = errors = dead = 0.0
    pending, open_breakers, buckets = None, [], {}
    try:
        for family in text_string_to_metric_families(response.text):
            for s in family.samples:
                if s.name == "meridian_requests_total":
                    total += s.value
                    errors += s.value if s.labels.get("code", "").startswith("5") else 0
                elif s.name == "meridian_request_duration_seconds_bucket":
                    bound = float(s.labels["le"])
                    buckets[bound] = buckets.get(bound, 0.0) + s.value
                elif s.name == "meridian_messages_dead_lettered_total":
                    dead += s.value
                elif s.name == "meridian_outbox_pending":
                    pending = (pending or 0.0) + s.value
                elif s.name == "meridian_circuit_breaker_open" and s.value:
                    open_breakers.append(s.labels.get("dependency", "?"))
    except ValueError as exc:
        raise ServiceUnavailable("unparseable /metrics") from exc
    return Red(total, errors, _p99(buckets), dead, pending, open_breakers)
