"""Thin client of the billing service's usage API (platform_services/billing/api.py).

`GET /v1/tenants/<tenant id or slug>/usage[?period=YYYY-MM]` answers
`{"period": "YYYY-MM", "usage": [{"meter", "flushed", "pending", "total"}, ...]}`; a tenant
the service has never seen answers 404 `{"error": "unknown_tenant", "message": ...}`, which is
"nothing metered yet", not an outage. Short timeouts (the dashboard waits on it), the
shared bounded retry of connection failures and 502/503/504 (portal.integrations.http), and
BillingUnavailable for everything else. Requests carry a token of the portal's platform
client for the billing service (portal.integrations.http.platform_token).
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from urllib.parse import quote

import requests

from portal.integrations.http import TokenUnavailable, platform_token, retrying_session, send

PERIOD = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
AUDIENCE = "meridian-billing"


class BillingUnavailable(Exception):
    """The billing service could not answer (down, timing out, or an unexpected reply)."""


@dataclass(frozen=True)
class MeterUsage:
    meter: str
    flushed: int   # already durable in the billing database
    pending: int   # counted in Redis, flushed within the service's interval
    total: int


@dataclass(frozen=True)
class Usage:
    period: str
    meters: tuple[MeterUsage, ...]
    registered: bool = True  # False: billing has no record of the tenant at all

    def as_dict(self) -> dict:
        return {"period": self.period, "registered": self.registered,
                "meters": [vars(m) for m in self.meters]}


@dataclass(frozen=True)
class BillingClient:
    base_url: str
    timeout: float = 2.0
    attempts: int = 3
    backoff: float = 0.2
    # audience → bearer token (None: send none); the portal's platform client by default.
    token: Callable[[str], str | None] = platform_token

    @cached_property
    def http(self) -> requests.Session:
        return retrying_session(retries=self.attempts - 1, backoff=self.backoff)

    def usage(self, tenant: int | str, period: str | None = None) -> Usage:
        """The tenant's metered usage of `period` (default: the service's current month)."""
        if period is not None and not PERIOD.match(period):
            raise ValueError(f"period must be YYYY-MM, not {period!r}")
        url = f"{self.base_url.rstrip('/')}/v1/tenants/{quote(str(tenant), safe='')}/usage"
        response = self._get(url, {"period": period} if period else None)
        if response.status_code == 404 and _error_code(response) == "unknown_tenant":
            return Usage(period or "", (), registered=False)
        if response.status_code != 200:
            raise BillingUnavailable(f"billing answered {response.status_code}")
        return _parse(response)

    def _get(self, url: str, params: dict | None) -> requests.Response:
        headers = {"Accept": "application/json"}
        try:
            token = self.token(AUDIENCE)
        except TokenUnavailable as exc:
            raise BillingUnavailable(str(exc)) from exc
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return send(self.http, "GET", url, params=params, timeout=(self.timeout, self.timeout),
                    headers=headers, unavailable=BillingUnavailable, what="billing")


def _error_code(response: requests.Response) -> str | None:
    try:
        return response.json()["error"]
    except (ValueError, KeyError, TypeError):
        return None


def _parse(response: requests.Response) -> Usage:
    try:
        body = response.json()
        meters = tuple(MeterUsage(str(m["meter"]), int(m["flushed"]), int(m["pending"]),
                                  int(m["total"])) for m in body["usage"])
        period = str(body["period"])
    except (ValueError, KeyError, TypeError) as exc:
        raise BillingUnavailable("billing answered something that is not usage") from exc
    if not PERIOD.match(period):
        raise BillingUnavailable(f"billing answered an invalid period {period[:20]!r}")
    return Usage(period, meters)
