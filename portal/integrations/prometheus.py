"""Prometheus HTTP API client: instant and range queries.

Timeouts on every call; connection failures and 502/503/504 are retried a bounded number of
times by portal.integrations.http (queries are GETs, so a retry is always safe). Results
are typed; a down Prometheus (or any 5xx) raises `PrometheusUnavailable`, a query it refuses
(bad PromQL, 4xx) raises `PrometheusRejected` with Prometheus's own message.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import requests

from portal.integrations.http import retrying_session, send


class PrometheusUnavailable(RuntimeError):
    """Prometheus did not answer (refused, timed out, or 5xx after retries)."""


class PrometheusRejected(ValueError):
    """Prometheus refused the query; the text is its error message."""


@dataclass(frozen=True)
class Series:
    """One series of a range (matrix) or instant (vector) result."""
    labels: dict[str, str]
    points: tuple[tuple[datetime, float], ...]


def _ts(at: datetime) -> str:
    return f"{at.timestamp():.3f}"


class PrometheusClient:
    def __init__(self, base_url: str, *, timeout: float = 5.0, retries: int = 2,
                 backoff: float = 0.2, session: requests.Session | None = None):
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.http = retrying_session(retries=retries, backoff=backoff, session=session)

    def query_range(self, query: str, *, start: datetime, end: datetime,
                    step_seconds: int = 60) -> list[Series]:
        """`/api/v1/query_range`: one Series per result series, points oldest first."""
        data = self._get("/api/v1/query_range", {"query": query, "start": _ts(start),
                                                 "end": _ts(end), "step": f"{step_seconds}s"})
        return [Series(r["metric"], tuple(_point(v) for v in r["values"]))
                for r in data["result"]]

    def query(self, query: str, *, at: datetime | None = None) -> list[Series]:
        """`/api/v1/query`: one single-point Series per result series."""
        params = {"query": query}
        if at is not None:
            params["time"] = _ts(at)
        data = self._get("/api/v1/query", params)
        if data["resultType"] == "scalar":
            return [Series({}, (_point(data["result"]),))]
        return [Series(r["metric"], (_point(r["value"]),)) for r in data["result"]]

    def ready(self) -> bool:
        """True when Prometheus answers /-/ready."""
        try:
            return self.http.get(f"{self.base_url}/-/ready", timeout=self.timeout).ok
        except requests.RequestException:
            return False

    def _get(self, path: str, params: dict) -> dict:
        return _payload(send(self.http, "GET", f"{self.base_url}{path}", params=params,
                             timeout=self.timeout, unavailable=PrometheusUnavailable,
                             what=f"Prometheus at {self.base_url}"))


def _payload(response: requests.Response) -> dict:
    try:
        body = response.json()
    except ValueError as exc:
        raise PrometheusUnavailable(f"not a Prometheus answer (HTTP {response.status_code})"
                                    ) from exc
    if response.status_code >= 400 or body.get("status") != "success":
        raise PrometheusRejected(body.get("error") or f"HTTP {response.status_code}")
    return body["data"]


def _point(value: list) -> tuple[datetime, float]:
    return datetime.fromtimestamp(float(value[0]), tz=UTC), float(value[1])
