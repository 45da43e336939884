"""A read-only client of Opsgenie's REST API v2, for the importer.

Every call goes through `portal.security.outbound`, so an address an admin types in (or a
paging link Opsgenie sends back) cannot reach the portal's own network. Requests carry
`Authorization: GenieKey <key>`. Lists are read page by page: the first request asks for
`offset=0&limit=PAGE`, and each next page is the `paging.next` link of the answer, which is
followed only while it points at the same host and path (a link elsewhere would be a way
to make the portal call an address nobody vetted).
"""
from __future__ import annotations

import builtins
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

from portal.security import outbound

REGIONS = {"us": "https://api.opsgenie.com", "eu": "https://api.eu.opsgenie.com"}
PAGE = 100  # the largest page Opsgenie's list endpoints document
MAX_PAGES = 500  # 50,000 rows: a stop for a server that keeps sending `next`
RATE_LIMIT_RETRIES = 3
MAX_KEY = 200  # Opsgenie's keys are UUIDs; anything much longer is not one


class OpsgenieError(Exception):
    """Opsgenie could not be read; the message is safe to show to the person importing."""


@dataclass
class OpsgenieClient:
    base_url: str
    api_key: str
    timeout: float = 15.0
    allowlist: Iterable[str] = ()
    sleep: Callable[[float], None] = time.sleep  # tests pass a no-op
    calls: int = field(default=0, init=False)  # requests sent, for the tests

    def __post_init__(self) -> None:
        parts = urlsplit(self.base_url.strip())
        if parts.scheme not in {"http", "https"} or not parts.netloc:
            raise OpsgenieError("The Opsgenie address must be an https:// URL such as "
                                "https://api.opsgenie.com.")
        self.base_url = f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"
        self.api_key = self.api_key.strip()
        if not 0 < len(self.api_key) <= MAX_KEY or \
                not all(33 <= ord(c) < 127 for c in self.api_key):  # it goes in a header
            raise OpsgenieError("Enter the Opsgenie API key (one word of letters, digits and "
                                "dashes).")
        self.allowlist = tuple(self.allowlist)

    # -- one request -----------------------------------------------------------------
    def _get(self, url: str) -> dict:
        headers = {"Authorization": f"GenieKey {self.api_key}"}
        for attempt in range(RATE_LIMIT_RETRIES + 1):
            self.calls += 1
            try:
                status, body = outbound.get_json(url, headers=headers, timeout=self.timeout,
                                                 allowlist=self.allowlist)
            except outbound.OutboundError as exc:
                if str(exc) == outbound.REFUSED:
                    raise OpsgenieError(
                        f"Opsgenie at {self.base_url} could not be reached: the address must "
                        f"be a publicly reachable https:// host.") from exc
                raise OpsgenieError(
                    f"Opsgenie at {self.base_url} did not answer usably (no connection, a "
                    f"timeout, a TLS error or an oversized answer); try again.") from exc
            if status == 429 and attempt < RATE_LIMIT_RETRIES:
                self.sleep(2 ** attempt)  # Opsgenie throttles per minute: back off and retry
                continue
            return self._checked(status, body, url)
        raise AssertionError("unreachable")  # pragma: no cover

    def _checked(self, status: int, body: object, url: str) -> dict:
        path = urlsplit(url).path
        if status in (401, 403):
            raise OpsgenieError(
                f"Opsgenie refused the API key (HTTP {status} on {path}). Use a key of an "
                f"API integration with read access to configurations, in the right region.")
        if status == 404:
            raise OpsgenieError(f"Opsgenie has no {path} (HTTP 404); check the region.")
        if status == 429:
            raise OpsgenieError("Opsgenie kept answering 'too many requests'; try again in "
                                "a minute.")
        if not 200 <= status < 300 or not isinstance(body, dict):
            raise OpsgenieError(f"Opsgenie answered HTTP {status} on {path} without the "
                                f"expected JSON.")
        return body

    def _url(self, path: str, params: dict[str, str | int] | None = None) -> str:
        query = f"?{urlencode(params)}" if params else ""
        return f"{self.base_url}{path}{query}"

    def _next_page(self, path: str, link: object) -> str | None:
        """The `paging.next` link as a URL on our own base, or None at the end."""
        if not link:
            return None
        parts, base = urlsplit(str(link)), urlsplit(self.base_url)
        if (parts.scheme, parts.netloc) != (base.scheme, base.netloc) or \
                parts.path != base.path + path:
            raise OpsgenieError("Opsgenie sent a paging link to another address; the import "
                                "stopped rather than follow it.")
        return self._url(path, dict(parse_qsl(parts.query)))

    # -- reading -----------------------------------------------------------------------
    def get(self, path: str, params: dict[str, str | int] | None = None) -> dict:
        """The `data` of one object."""
        data = self._get(self._url(path, params)).get("data")
        if not isinstance(data, dict):
            raise OpsgenieError(f"Opsgenie's answer on {path} has no data object.")
        return data

    def list(self, path: str, params: dict[str, str | int] | None = None,
             *, paged: bool = False) -> Iterator[dict]:
        """Every item of a list endpoint, following `paging.next` from page to page.

        `paged` asks for `offset`/`limit` on the first request (the endpoints that document
        them); `paging.next` is followed wherever Opsgenie sends it."""
        url = self._url(path, {**(params or {}), **({"offset": 0, "limit": PAGE}
                                                   if paged else {})})
        for _ in range(MAX_PAGES):
            body = self._get(url)
            data = body.get("data")
            if not isinstance(data, list):
                raise OpsgenieError(f"Opsgenie's answer on {path} has no data list.")
            yield from (item for item in data if isinstance(item, dict))
            paging = body.get("paging")
            next_url = self._next_page(path, paging.get("next") if isinstance(paging, dict)
                                       else None)
            if next_url is None or not data:
                return
            url = next_url
        raise OpsgenieError(f"Opsgenie's {path} did not end after {MAX_PAGES} pages.")

    def users(self) -> builtins.list[dict]:
        return list(self.list("/v2/users", paged=True))

    def teams(self) -> builtins.list[dict]:
        """Every team with its members (the list leaves members out, so each is read)."""
        return [self.get(f"/v2/teams/{quote(str(t.get('id', '')), safe='')}",
                         {"identifierType": "id"}) for t in self.list("/v2/teams")]

    def schedules(self) -> builtins.list[dict]:
        return list(self.list("/v2/schedules", {"expand": "rotation"}))

    def overrides(self, schedule_id: str) -> builtins.list[dict]:
        return list(self.list(f"/v2/schedules/{quote(schedule_id, safe='')}/overrides",
                              {"scheduleIdentifierType": "id"}))

    def escalations(self) -> builtins.list[dict]:
        return list(self.list("/v2/escalations"))

    def routing_rules(self, team_id: str) -> builtins.list[dict]:
        return list(self.list(f"/v2/teams/{quote(team_id, safe='')}/routing-rules",
                              {"teamIdentifierType": "id"}))
