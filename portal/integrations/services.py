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
    TokenUnavailable,
    has_platform_client,
    platform_token,
    retrying_session,
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
    pending: float | None = None
    open_breakers: list[str] = []
    buckets: dict[float, float] = {}
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


# The dead-letter API of the platform services (GET /v1/dlq, POST /v1/dlq/<queue>/...),
# which needs a platform token with dlq:admin. A redrive moves many messages: a longer read.
DLQ_TIMEOUT = (1.0, 15.0)
DLQ_ACTIONS = ("redrive", "discard")


class DeadLettersRefused(Exception):
    """The service answered but refused (no DLQ API, no permission, unknown queue)."""


@dataclass(frozen=True)
class DeadLetterQueue:
    queue: str
    count: int
    oldest_age_seconds: float | None
    first_error: str | None
    samples: list[dict] = field(default_factory=list)


def _dlq_call(method: str, url: str, base: str) -> dict:
    headers = auth_headers(base)
    try:
        # No retry: a redrive sent twice is harmless, but an answer lost is better reported.
        response = requests.request(method, url, headers=headers, timeout=DLQ_TIMEOUT)
    except requests.RequestException as exc:
        raise ServiceUnavailable(f"{url}: {exc.__class__.__name__}") from exc
    if response.status_code in (401, 403, 404, 405):
        raise DeadLettersRefused(f"{response.status_code}: {_message(response)}")
    if response.status_code != 200:
        raise ServiceUnavailable(f"{response.status_code}: {_message(response)}")
    try:
        body = response.json()
    except ValueError as exc:
        raise ServiceUnavailable("the answer is not JSON") from exc
    if not isinstance(body, dict):
        raise ServiceUnavailable("unexpected answer")
    return body


def _message(response: requests.Response) -> str:
    try:
        return str(response.json().get("message", ""))[:300]
    except (ValueError, AttributeError):
        return response.reason or ""


def dead_letters(base_url: str) -> list[DeadLetterQueue]:
    """The service's dead-letter queues with count, oldest age, first error, samples."""
    base = base_url.rstrip("/")
    body = _dlq_call("GET", base + "/v1/dlq", base)
    try:
        return [DeadLetterQueue(str(q["queue"]), int(q["count"]),
                                None if q.get("oldest_age_seconds") is None
                                else float(q["oldest_age_seconds"]),
                                q.get("first_error"), list(q.get("samples") or []))
                for q in body["queues"]]
    except (KeyError, TypeError, ValueError) as exc:
        raise ServiceUnavailable("unexpected /v1/dlq answer") from exc


def act_on_dead_letters(base_url: str, queue: str, action: str) -> int:
    """Redrive or discard a queue's dead letters; how many messages it moved or dropped."""
    if action not in DLQ_ACTIONS:
        raise ValueError(f"unknown action {action!r}")
    base = base_url.rstrip("/")
    body = _dlq_call("POST", f"{base}/v1/dlq/{requests.utils.quote(queue, safe='')}/{action}",
                     base)
    count = body.get("redriven" if action == "redrive" else "discarded")
    if not isinstance(count, int):
        raise ServiceUnavailable("unexpected answer")
    return count
