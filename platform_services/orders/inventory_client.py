"""The order service's client of the inventory service: HTTP with a 5 s timeout behind a
circuit breaker, so a slow inventory fails orders fast instead of hanging them. The breaker
does not serialise calls: each request thread talks to inventory on its own.

urllib3's pool rather than a requests session: every order makes this call, and requests'
per-call work (proxy settings read from the environment, cookies, hooks) cost more CPU than
the rest of the client together; connections are kept alive and reused either way.
"""
from __future__ import annotations

import json
from dataclasses import dataclass

import urllib3

from platform_services.common.jwt_auth import audience_of
from platform_services.common.observability import Metrics
from platform_services.common.service_tokens import ClientCredentials, TokenUnavailable
from platform_services.orders.breaker import Breaker, CircuitOpen


class _CallFailed(Exception):
    """The call reached inventory but failed there (5xx, token refused, no JSON)."""


class InventoryUnavailable(Exception):
    """The inventory service timed out, failed, or the breaker is open."""


class InventoryRejected(Exception):
    """The inventory service refused the reservation (unknown SKU, not enough stock)."""

    def __init__(self, status: int, body: dict) -> None:
        super().__init__(body.get("message", "reservation refused"))
        self.status, self.body = status, body


@dataclass(frozen=True)
class ReservedLine:
    sku: str
    quantity: int
    warehouse: str


class InventoryClient:
    def __init__(self, base_url: str, timeout: float, metrics: Metrics,
                 fail_max: int = 5, reset_seconds: float = 30.0,
                 credentials: ClientCredentials | None = None) -> None:
        self.base_url, self.timeout, self.metrics = base_url.rstrip("/"), timeout, metrics
        self.credentials = credentials
        # Up to 64 idle connections kept (one per request thread, with room); more are
        # opened when needed and closed after use rather than making a thread wait. One
        # host, so its pool is used directly: a PoolManager parses the URL and looks the
        # pool up again on every call.
        self._timeout = urllib3.Timeout(connect=timeout, read=timeout)
        self.http = urllib3.connection_from_url(self.base_url, maxsize=64, block=False,
                                                retries=False, timeout=self._timeout)
        self._path_prefix = urllib3.util.parse_url(self.base_url).path or ""
        # A refusal is an answer, not a failure: it must not open the breaker.
        self.breaker = Breaker(fail_max, reset_seconds, excluded=(InventoryRejected,))
        gauge = metrics.breaker_open.labels(metrics.service, "inventory")
        gauge.set_function(lambda: 1.0 if self.breaker.current_state == "open" else 0.0)

    def reserve(self, tenant: str, reference: str, lines: list[dict],
                request_id: str = "") -> list[ReservedLine]:
        """Reserve every line for `reference` (idempotent at the inventory side)."""
        body = self._call("post", f"/v1/tenants/{tenant}/reservations",
                          {"reference": reference, "lines": lines}, request_id)
        return [ReservedLine(r["sku"], r["quantity"], r["warehouse"])
                for r in body["reservations"]]

    def release(self, tenant: str, reference: str, request_id: str = "") -> None:
        """Release what `reference` holds (a compensating action; safe to repeat)."""
        self._call("post", f"/v1/tenants/{tenant}/reservations/{reference}/release", {},
                   request_id)

    def _call(self, method: str, path: str, payload: dict, request_id: str) -> dict:
        try:
            return self.breaker.call(self._request, method, path, payload, request_id)
        except CircuitOpen as exc:
            raise InventoryUnavailable("inventory circuit breaker is open") from exc
        except (_CallFailed, TokenUnavailable, urllib3.exceptions.HTTPError) as exc:
            raise InventoryUnavailable(f"inventory service unreachable: {exc}") from exc

    def _request(self, method: str, path: str, payload: dict, request_id: str) -> dict:
        headers = {"Content-Type": "application/json"}
        if request_id:
            headers["X-Request-ID"] = request_id
        if self.credentials is not None:
            token = self.credentials.token(audience_of("inventory"))
            headers["Authorization"] = f"Bearer {token}"
        response = self.http.urlopen(method.upper(), self._path_prefix + path,
                                     body=json.dumps(payload).encode(), headers=headers,
                                     timeout=self._timeout, retries=False,
                                     redirect=False, assert_same_host=False)
        if response.status >= 500:
            raise _CallFailed(f"inventory answered {response.status}")
        if response.status in (401, 403):
            # Our credentials, not the order, are wrong: an outage of the call path.
            if self.credentials is not None:
                self.credentials.forget(audience_of("inventory"))
            raise _CallFailed(f"inventory refused the order service's token "
                              f"({response.status}); check SERVICE_CLIENT_ID")
        try:
            body = json.loads(response.data)
        except ValueError as exc:
            raise _CallFailed(f"inventory answered {response.status} without JSON") from exc
        if response.status >= 400:
            raise InventoryRejected(response.status, body)
        return body
