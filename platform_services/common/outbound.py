"""HTTP calls to URLs that tenants supply (notification webhooks), safe from SSRF.

A tenant's URL must not reach into the platform's own network: its host is resolved once,
every address must be publicly routable (addresses hidden inside IPv4-mapped, NAT64, 6to4
or IPv4-compatible IPv6 forms are unwrapped first) unless the host or address is listed in
the allowlist (OUTBOUND_ALLOWED_HOSTS, for deliberate internal targets), and the request
then goes to that vetted address with the original Host header and TLS server name, so a
second DNS answer cannot swap in an internal one. Redirects are never followed. Every
failure reads the same to the caller (the details go to the log), so the service cannot
be used to map what answers where.
"""
from __future__ import annotations

import ipaddress
import logging
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

import urllib3

log = logging.getLogger(__name__)

UNDELIVERED = "the webhook could not be delivered"
REFUSED = ("an http(s) URL of a publicly reachable host (private, loopback, link-local "
           "and cloud metadata addresses are refused)")
IP = ipaddress.IPv4Address | ipaddress.IPv6Address
# Not "global" by RFC, or global but never a tenant's endpoint.
_BLOCKED = tuple(ipaddress.ip_network(n) for n in (
    "100.64.0.0/10",      # carrier-grade NAT
    "169.254.169.254/32",  # cloud metadata (also link-local)
    "fd00:ec2::254/128",   # cloud metadata over IPv6 (also unique-local)
    "224.0.0.0/4", "ff00::/8",  # multicast
))
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")


class Refused(Exception):
    """The URL is not an allowed outbound target, or the call failed; message is safe."""


@dataclass(frozen=True)
class Target:
    """Where a vetted URL's request goes: scheme, name, port, path and the checked IP."""
    scheme: str
    host: str
    port: int
    path: str
    address: str


def _embedded_ipv4(address: IP) -> ipaddress.IPv4Address | None:
    if address.version == 4:
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in _NAT64 or (address in _IPV4_COMPATIBLE and int(address) > 1):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def is_public(address: IP) -> bool:
    """True for a publicly routable unicast address, judged by any IPv4 it embeds too."""
    candidates = [address]
    inner = _embedded_ipv4(address)
    if inner is not None:
        candidates.append(inner)
    return all(a.is_global and not any(a in net for net in _BLOCKED if net.version == a.version)
               for a in candidates)


def _allowlisted(host: str, address: IP, allowlist: Iterable[str]) -> bool:
    for entry in (e.strip().lower() for e in allowlist):
        if entry == host:
            return True
        try:
            if entry and address in ipaddress.ip_network(entry, strict=False):
                return True
        except ValueError:
            continue
    return False


def vet(url: str, *, allowlist: Iterable[str] = ()) -> Target:
    """Resolve `url` once and return where to connect; Refused(REFUSED) if not allowed."""
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        host = (parts.hostname or "").lower()
    except ValueError as exc:
        raise Refused(REFUSED) from exc
    if parts.scheme not in ("http", "https") or not host or parts.username is not None:
        raise Refused(REFUSED)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        addresses = [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos]
    except (OSError, UnicodeError, ValueError) as exc:
        raise Refused(REFUSED) from exc
    allowlist = tuple(allowlist)
    if not addresses or not all(is_public(a) or _allowlisted(host, a, allowlist)
                                for a in addresses):
        raise Refused(REFUSED)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(parts.scheme, host, port, path, str(addresses[0]))


def post(target: Target, body: bytes, headers: dict[str, str], *, timeout: float) -> int:
    """POST `body` to a vetted target's address; its 2xx status, else Refused(UNDELIVERED)."""
    url = f"{target.scheme}://{target.host}:{target.port}{target.path}"[:300]
    default_port = 443 if target.scheme == "https" else 80
    name = f"[{target.host}]" if ":" in target.host else target.host
    host_header = name if target.port == default_port else f"{name}:{target.port}"
    pool: urllib3.HTTPConnectionPool
    if target.scheme == "https":
        pool = urllib3.HTTPSConnectionPool(target.address, target.port, timeout=timeout,
                                           retries=False, server_hostname=target.host,
                                           assert_hostname=target.host)
    else:
        pool = urllib3.HTTPConnectionPool(target.address, target.port, timeout=timeout,
                                          retries=False)
    try:
        with pool:
            response = pool.urlopen("POST", target.path, body=body, redirect=False,
                                    retries=False, headers={**headers, "Host": host_header})
    except urllib3.exceptions.HTTPError as exc:
        log.warning("outbound call to %s failed: %s", url, exc)
        raise Refused(UNDELIVERED) from exc
    if not 200 <= response.status < 300:
        log.warning("outbound call to %s answered HTTP %s", url, response.status)
        raise Refused(UNDELIVERED)
    return response.status
