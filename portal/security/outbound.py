"""Outbound HTTP to addresses that users or operators configure (chat webhooks).

A configured URL must not become a way into the portal's own network (SSRF): the host is
resolved once, every address it resolves to must be publicly routable unless the host or
address is deliberately allowlisted (OUTBOUND_ALLOWED_HOSTS), and the connection then goes
to that vetted address, so a second DNS answer cannot swap in an internal one. Redirects
are not followed, and every failure reads the same to the caller, so the portal cannot be
used to probe what answers where; the details go to the log only.
"""
from __future__ import annotations

import ipaddress
import json
import logging
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

import urllib3

log = logging.getLogger(__name__)

FAILURE = "the webhook could not be delivered"
REFUSED = ("must be an http(s) URL of a publicly reachable host; private, loopback and "
           "link-local addresses are refused")
# Ranges that `ipaddress` reports as global but must never be reached from the portal.
_EXTRA_BLOCKED = tuple(ipaddress.ip_network(n) for n in (
    "100.64.0.0/10",  # carrier-grade NAT
    "fd00:ec2::254/128",  # cloud metadata over IPv6
))
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class OutboundError(Exception):
    """An outbound call was refused or failed; the message is safe to show."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str
    address: str


def _allowed(host: str, address: IPAddress, allowlist: Iterable[str]) -> bool:
    for entry in allowlist:
        entry = entry.strip().lower()
        if not entry:
            continue
        if entry == host:
            return True
        try:
            if address in ipaddress.ip_network(entry, strict=False):
                return True
        except ValueError:
            continue
    return False


def is_public(address: IPAddress) -> bool:
    """True for an address on the public internet (not private, loopback, metadata...)."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if any(address in net for net in _EXTRA_BLOCKED if net.version == address.version):
        return False
    return address.is_global and not address.is_multicast


def vet(url: str, *, allowlist: Iterable[str] = ()) -> Target:
    """Resolve `url` and return where to connect; raises OutboundError(REFUSED) if unsafe."""
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise OutboundError(REFUSED) from exc
    host = (parts.hostname or "").lower()
    if parts.scheme not in {"http", "https"} or not host or parts.username or parts.password:
        raise OutboundError(REFUSED)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise OutboundError(REFUSED) from exc
    addresses = [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]
    allowlist = tuple(allowlist)
    if not addresses or not all(is_public(a) or _allowed(host, a, allowlist)
                                for a in addresses):
        raise OutboundError(REFUSED)
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return Target(parts.scheme, host, port, path, str(addresses[0]))


def post_json(url: str, body: dict, *, timeout: float, allowlist: Iterable[str] = ()) -> int:
    """POST `body` as JSON to the vetted address of `url`; returns the 2xx status.

    Raises OutboundError(FAILURE) for any refusal, connection error or non-2xx answer.
    """
    try:
        target = vet(url, allowlist=allowlist)
    except OutboundError:
        log.warning("outbound call to %s refused: not an allowed address", url)
        raise
    default_port = 443 if target.scheme == "https" else 80
    host_header = target.host if target.port == default_port else f"{target.host}:{target.port}"
    pool: urllib3.HTTPConnectionPool
    if target.scheme == "https":
        pool = urllib3.HTTPSConnectionPool(target.address, target.port, timeout=timeout,
                                           server_hostname=target.host,
                                           assert_hostname=target.host, retries=False)
    else:
        pool = urllib3.HTTPConnectionPool(target.address, target.port, timeout=timeout,
                                          retries=False)
    try:
        with pool:
            response = pool.urlopen("POST", target.path, body=json.dumps(body).encode(),
                                    headers={"Host": host_header,
                                             "Content-Type": "application/json"},
                                    redirect=False, retries=False)
    except urllib3.exceptions.HTTPError as exc:
        log.warning("outbound call to %s failed: %s", url, exc)
        raise OutboundError(FAILURE) from exc
    if not 200 <= response.status < 300:
        log.warning("outbound call to %s answered HTTP %s", url, response.status)
        raise OutboundError(FAILURE)
    return response.status


def _pool(target: Target, timeout: float) -> urllib3.HTTPConnectionPool:
    """A connection pool to the vetted address, checking TLS against the original host."""
    if target.scheme == "https":
        return urllib3.HTTPSConnectionPool(target.address, target.port, timeout=timeout,
                                           server_hostname=target.host,
                                           assert_hostname=target.host, retries=False)
    return urllib3.HTTPConnectionPool(target.address, target.port, timeout=timeout,
                                      retries=False)


MAX_GET_BYTES = 20 * 1024 * 1024  # the largest answer `get_json` reads


def get_json(url: str, *, headers: dict[str, str], timeout: float,
             allowlist: Iterable[str] = ()) -> tuple[int, object]:
    """GET the vetted address of `url`; returns the status and the JSON body (None if the
    body is not JSON), whatever the status, so a client can explain a 401 or a 404.

    Raises OutboundError(REFUSED) for an address that is not allowed and OutboundError
    (FAILURE) when no usable answer came (connection refused, timeout, TLS error, or an
    answer over MAX_GET_BYTES).
    """
    try:
        target = vet(url, allowlist=allowlist)
    except OutboundError:
        log.warning("outbound call to %s refused: not an allowed address", url)
        raise
    default_port = 443 if target.scheme == "https" else 80
    host_header = target.host if target.port == default_port else f"{target.host}:{target.port}"
    try:
        with _pool(target, timeout) as pool:
            response = pool.urlopen("GET", target.path,
                                    headers={**headers, "Host": host_header,
                                             "Accept": "application/json"},
                                    redirect=False, retries=False, preload_content=False)
            data = response.read(MAX_GET_BYTES + 1)  # a hostile server cannot fill memory
            response.release_conn()
    except urllib3.exceptions.HTTPError as exc:
        log.warning("outbound call to %s failed: %s", url, exc)
        raise OutboundError(FAILURE) from exc
    if len(data) > MAX_GET_BYTES:
        log.warning("outbound call to %s answered more than %s bytes", url, MAX_GET_BYTES)
        raise OutboundError(FAILURE)
    try:
        body = json.loads(data) if data else None
    except ValueError:
        body = None
    return response.status, body

