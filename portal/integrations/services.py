"""Thin client of the platform services' operational endpoints (/readyz, /metrics).

Timeouts are short because the catalog page polls it; one immediate retry (through
portal.integrations.http) covers a connection reset; answers are never retried, since a 503
from /readyz carries the per-dependency checks. A service that cannot be reached raises
ServiceUnavailable.

/readyz and /metrics of a platform service need a token for that service (its audience
`meridian-<service>`, named by the service's open /healthz); other catalog services are
probed as they are, without one.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import requests
from prometheus_client.parser import text_string_to_metric_families

from portal.integrations.http import (
    TokenUnavailable, has_platform_client, platform_token, retrying_session,
)

TIMEOUT = (1.0, 2.0)  # connect, read (seconds)
SERVICE_NAME = re.compile(r"^[a-z][a-z0-9-]{0,40}$")


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


def _get(url: str, headers: dict[str, str] | None = None) -> requests.Response:
    # A session per probe, as requests.get does: no cookies or connections shared between
    # the services (and the portal's threads) that the panel polls.
    try:
        with retrying_session(retries=1, backoff=0, methods={"GET"}, statuses=()) as http:
            return http.get(url, timeout=TIMEOUT, headers=headers or {})
    except requests.RequestException as exc:
        raise ServiceUnavailable(f"{url}: {exc.__class__.__name__}") from exc


def auth_headers(base_url: str) -> dict[str, str]:
    """The bearer token for the platform service at `base_url` (none for other services,
    or when the portal has no platform client configured)."""
    if not has_platform_client():
        return {}
    try:
        body = _get(base_url + "/healthz").json()
    except (ServiceUnavailable, ValueError):
        return {}
    name = body.get("service") if isinstance(body, dict) else None
    if not isinstance(name, str) or not SERVICE_NAME.match(name):
        return {}
    try:
        token = platform_token(f"meridian-{name}")
    except TokenUnavailable as exc:
        raise ServiceUnavailable(str(exc)) from exc
    return {"Authorization": f"Bearer {token}"} if token else {}


def readiness(base_url: str) -> Readiness:
    """The service's /readyz answer (200 and 503 both carry the per-dependency checks)."""
    base = base_url.rstrip("/")
    response = _get(base + "/readyz", auth_headers(base))
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
    base = base_url.rstrip("/")
    response = _get(base + "/metrics", auth_headers(base))
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
