"""HTTP to chat platforms, through the portal's outbound guard.

`portal.security.outbound.post_json` sends no headers and returns no body; chat APIs need
both (a bearer token in, the posted message's id out). This keeps the same guard: the URL
is vetted by `outbound.vet` (public addresses only unless allowlisted), the connection goes
to the vetted address, and redirects are never followed.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

import urllib3

from portal.security import outbound

log = logging.getLogger(__name__)


class ChatSendError(Exception):
    """A chat call failed; the message is safe to show on the page and the incident."""


@dataclass(frozen=True)
class Reply:
    status: int
    body: dict


def call(method: str, url: str, *, body: dict | None = None, headers: dict | None = None,
         timeout: float, allowlist: tuple[str, ...] = ()) -> Reply:
    """Send `body` as JSON to the vetted address of `url`; returns the 2xx reply's JSON.

    Raises ChatSendError for a refused address, a connection error or a non-2xx answer.
    """
    try:
        target = outbound.vet(url, allowlist=allowlist)
    except outbound.OutboundError as exc:
        log.warning("chat call to %s refused: not an allowed address", _safe(url))
        raise ChatSendError(f"refused address: {exc}") from exc
    default_port = 443 if target.scheme == "https" else 80
    host = target.host if target.port == default_port else f"{target.host}:{target.port}"
    sent = {"Host": host, "Accept": "application/json", **(headers or {})}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        sent["Content-Type"] = "application/json; charset=utf-8"
    pool_cls = urllib3.HTTPSConnectionPool if target.scheme == "https" else \
        urllib3.HTTPConnectionPool
    extra: dict[str, Any] = {"server_hostname": target.host, "assert_hostname": target.host} \
        if target.scheme == "https" else {}
    try:
        with pool_cls(target.address, target.port, timeout=timeout, retries=False,
                      **extra) as pool:
            response = pool.urlopen(method, target.path, body=data, headers=sent,
                                    redirect=False, retries=False)
    except urllib3.exceptions.HTTPError as exc:
        log.warning("chat call to %s failed: %s", _safe(url), exc)
        raise ChatSendError("no answer from the chat server (connection failed or timed "
                            "out)") from exc
    try:
        parsed = json.loads(response.data) if response.data else {}
    except ValueError:
        parsed = {}
    if not isinstance(parsed, dict):
        parsed = {"items": parsed}
    if not 200 <= response.status < 300:
        log.warning("chat call to %s answered HTTP %s", _safe(url), response.status)
        detail = parsed.get("message") or parsed.get("error") or ""
        retry = response.headers.get("Retry-After")
        raise ChatSendError(f"HTTP {response.status}" + (f": {str(detail)[:200]}" if detail
                                                         else "")
                            + (f" (retry after {retry} s)" if retry else ""))
    return Reply(response.status, parsed)


def _safe(url: str) -> str:
    """The URL without its path: webhook URLs carry their secret in the path."""
    head, _, rest = url.partition("://")
    return f"{head}://{rest.split('/', 1)[0]}"


@dataclass(frozen=True)
class Posted:
    """The platform's handle of a posted message: its id, channel and a link to open it."""
    remote_id: str | None = None
    channel: str | None = None
    link: str | None = None
