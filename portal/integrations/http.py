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
"""
from __future__ import annotations

from collections.abc import Iterable

import requests
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
