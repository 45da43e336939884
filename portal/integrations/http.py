"""The one retry mechanism of the integration clients: a `requests.Session` whose adapters
retry with urllib3's `Retry` instead of a hand-written loop in every client.

What is retried, and why it is safe:
- connection errors (refused, connect timeout): the server never saw the request, so any
  method is retried;
- read errors (read timeout, connection reset after sending) and 502/503/504 answers: only
  for the methods in `methods`, by default the idempotent ones (GET, HEAD, PUT, DELETE,
  OPTIONS, TRACE). A client whose POST is safe to repeat says so by passing its own set;
- nothing else: a 4xx, a 500 or a certificate error is not transient.

`Retry-After` is ignored on purpose: the clients have short timeouts, and a server must not
be able to park a portal request for as long as it likes. When the status retries run out
the last answer is returned (not an exception), so each client maps it to its own
`...Unavailable` error. Backoff is urllib3's: the first retry is immediate, then
`backoff * 2 ** (n - 1)` seconds.

`platform_token` gives the clients of the platform services (health and billing panels) a
client-credentials token per service, cached until shortly before it expires.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Iterable

import requests
from flask import current_app, has_app_context
from requests.adapters import HTTPAdapter
from urllib3.util import Retry

IDEMPOTENT = Retry.DEFAULT_ALLOWED_METHODS
TRANSIENT_STATUSES = (502, 503, 504)


def retry_policy(*, retries: int, backoff: float, methods: Iterable[str] = IDEMPOTENT,
                 statuses: Iterable[int] = TRANSIENT_STATUSES) -> Retry:
    """At most `retries` retries of connection/read failures and `statuses` answers."""
    return Retry(total=retries, connect=retries, read=retries, status=retries, other=0,
                 backoff_factor=backoff, status_forcelist=tuple(statuses),
                 allowed_methods=frozenset(m.upper() for m in methods),
                 raise_on_status=False, respect_retry_after_header=False)


def mount(session: requests.Session, prefix: str, policy: Retry) -> None:
    """Use `policy` for every URL starting with `prefix` (the longest prefix wins)."""
    session.mount(prefix, HTTPAdapter(max_retries=policy))


def retrying_session(*, retries: int, backoff: float, methods: Iterable[str] = IDEMPOTENT,
                     statuses: Iterable[int] = TRANSIENT_STATUSES,
                     session: requests.Session | None = None) -> requests.Session:
    """A session (the given one, or a new one) retrying per `retry_policy` for http and https."""
    http = session if session is not None else requests.Session()
    policy = retry_policy(retries=retries, backoff=backoff, methods=methods, statuses=statuses)
    for scheme in ("http://", "https://"):
        mount(http, scheme, policy)
    return http


def send(http: requests.Session, method: str, url: str, *, unavailable: type[Exception],
         what: str, timeout, **kwargs) -> requests.Response:
    """One request through `http`; a connection failure, a timeout or a 5xx answer (after
    the session's retries) raise `unavailable` naming `what`. Other answers are returned."""
    try:
        response = http.request(method, url, timeout=timeout, **kwargs)
    except (requests.ConnectionError, requests.Timeout) as exc:
        raise unavailable(f"{what} is unreachable: {exc}") from exc
    except requests.RequestException as exc:
        raise unavailable(f"{what}: request failed: {exc}") from exc
    if response.status_code >= 500:
        raise unavailable(f"{what} is unreachable: HTTP {response.status_code}")
    return response


class TokenUnavailable(Exception):
    """No access token could be obtained from the platform's auth service."""


class ClientCredentials:
    """OAuth2 client-credentials tokens (RFC 6749 §4.4) of the portal at the platform's
    auth service, one per audience (the service called), reused until `margin` seconds
    before they expire."""

    def __init__(self, auth_url: str, client_id: str, client_secret: str, *,
                 timeout: float = 3.0, margin: float = 60.0) -> None:
        self.token_url = f"{auth_url.rstrip('/')}/oauth/token"
        self.client_id, self.client_secret = client_id, client_secret
        self.timeout, self.margin = timeout, margin
        self._cache: dict[str, tuple[str, float]] = {}
        self._lock = threading.Lock()

    def token(self, audience: str) -> str:
        """A valid token for `audience`, cached or fetched now; TokenUnavailable if not."""
        with self._lock:
            cached = self._cache.get(audience)
            if cached and time.monotonic() < cached[1]:
                return cached[0]
        try:
            with retrying_session(retries=1, backoff=0, methods={"POST"}) as http:
                response = http.post(self.token_url, auth=(self.client_id, self.client_secret),
                                     data={"grant_type": "client_credentials",
                                           "audience": audience}, timeout=self.timeout)
            body = response.json()
            token, lifetime = str(body["access_token"]), float(body["expires_in"])
        except (requests.RequestException, ValueError, KeyError, TypeError) as exc:
            raise TokenUnavailable(f"no token for {audience}: {exc.__class__.__name__}") \
                from exc
        with self._lock:
            self._cache[audience] = (token, time.monotonic() + lifetime
                                     - min(self.margin, lifetime / 2))
        return token


# One token cache per configured client, shared by the portal's threads.
_sources: dict[tuple[str, str, str], ClientCredentials] = {}
_sources_lock = threading.Lock()


def _platform_client() -> tuple[str, str, str] | None:
    if not has_app_context():
        return None
    config = current_app.config
    url, client_id, secret = (config.get("SERVICES_AUTH_URL"), config.get("SERVICES_CLIENT_ID"),
                              config.get("SERVICES_CLIENT_SECRET"))
    return (url, client_id, secret) if url and client_id and secret else None


def has_platform_client() -> bool:
    """True when the portal is configured with a platform client (SERVICES_*)."""
    return _platform_client() is not None


def platform_token(audience: str) -> str | None:
    """A token of the portal's platform client (SERVICES_AUTH_URL, SERVICES_CLIENT_ID,
    SERVICES_CLIENT_SECRET) for `audience`; None when the portal has no client configured."""
    key = _platform_client()
    if key is None:
        return None
    with _sources_lock:
        source = _sources.setdefault(key, ClientCredentials(*key))
    return source.token(audience)
