"""The order service's client of the inventory service: HTTP with a 5 s timeout behind a
circuit breaker, so a slow inventory fails orders fast instead of hanging them. The breaker
does not serialise calls: each request thread talks to inventory on its own."""
from __future__ import annotations

from dataclasses import dataclass

import requests
import requests.adapters

from platform_services.common.jwt_auth import audience_of
from platform_services.common.observability import Metrics
from platform_services.common.service_tokens import BearerAuth, ClientCredentials
from platform_services.orders.breaker import Breaker, CircuitOpen


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
        self.http = requests.Session()
        self.http.mount("http://", requests.adapters.HTTPAdapter(pool_maxsize=64))
        if credentials is not None:
            self.http.auth = BearerAuth(credentials, audience_of("inventory"))
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
        except requests.RequestException as exc:
            raise InventoryUnavailable(f"inventory service unreachable: {exc}") from exc

    def _request(self, method: str, path: str, payload: dict, request_id: str) -> dict:
        response = self.http.request(method, self.base_url + path, json=payload,
                                     timeout=self.timeout,
                                     headers={"X-Request-ID": request_id} if request_id else {})
        if response.status_code >= 500:
            raise requests.HTTPError(f"inventory answered {response.status_code}")
        if response.status_code in (401, 403):
            # Our credentials, not the order, are wrong: an outage of the call path.
            if self.credentials is not None:
                self.credentials.forget(audience_of("inventory"))
            raise requests.HTTPError(f"inventory refused the order service's token "
                                     f"({response.status_code}); check SERVICE_CLIENT_ID")
        body = response.json()
        if response.status_code >= 400:
            raise InventoryRejected(response.status_code, body)
        return body
