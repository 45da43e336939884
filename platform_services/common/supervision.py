"""Supervised background loops: the outbox relay, the consumers and the periodic flushers
survive any exception (logged, then retried after a jittered back-off), report when they
last succeeded and how far behind they are, and tell transient failures (a database,
broker or network outage: retry later, the message is not at fault) from permanent ones
(the message itself cannot be handled: count an attempt, then dead-letter it).

A loop that stops succeeding for `stale_after` seconds, falls that far behind, or whose
thread ended is named by /readyz (status `degraded`) and shows in
`meridian_loop_seconds_since_success`.
"""
from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable

import pika.exceptions
import redis.exceptions
import requests
from sqlalchemy import exc as sa_exc

log = logging.getLogger(__name__)

# What an outage raises, as opposed to what a bad message or a bug raises. OSError is left
# out on purpose: a missing file is the message's problem, a refused connection is not.
_TRANSIENT: tuple[type[BaseException], ...] = (
    sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.TimeoutError,
    pika.exceptions.AMQPError, requests.ConnectionError, requests.Timeout,
    redis.exceptions.ConnectionError, redis.exceptions.TimeoutError,
    ConnectionError, TimeoutError,
)
try:  # S3 unreachable (fulfillment labels, export uploads) is an outage too
    from botocore.exceptions import ConnectionError as _BotoConnectionError
    _TRANSIENT += (_BotoConnectionError,)
except ImportError:  # botocore is optional for services without object storage
    pass


def is_transient(exc: BaseException) -> bool:
    """Whether `exc` (or an exception it was raised from) is an outage worth waiting out."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, _TRANSIENT):
            return True
        if isinstance(current, sa_exc.DBAPIError) and current.connection_invalidated:
            return True
        current = current.__cause__
    return False


class Backoff:
    """Exponential back-off with equal jitter, so restarted loops do not retry in step."""

    def __init__(self, base: float, cap: float) -> None:
        self.base, self.cap = base, max(cap, base)
        self.failures = 0

    def next(self) -> float:
        """The delay before the next try; each call doubles it up to `cap`."""
        delay = min(self.cap, self.base * 2 ** self.failures)
        self.failures += 1
        return delay / 2 + random.uniform(0, delay / 2)

    def reset(self) -> None:
        """Back to the shortest delay after a success."""
        self.failures = 0


class LoopHealth:
    """When a loop last succeeded, its last error and its lag (e.g. outbox backlog age)."""

    def __init__(self, name: str, stale_after: float) -> None:
        self.name, self.stale_after = name, stale_after
        self.started_at = time.monotonic()
        self.last_success: float | None = None
        self.last_error: str | None = None
        self.lag: float = 0.0
        self.thread: threading.Thread | None = None
        self.stopped = False

    def ok(self, lag: float | None = None) -> None:
        """Record a successful iteration (and the current lag, when the loop knows it)."""
        self.last_success = time.monotonic()
        self.last_error = None
        if lag is not None:
            self.lag = lag

    def failed(self, exc: BaseException) -> None:
        """Record a failed iteration; the success time stays what it was."""
        self.last_error = f"{type(exc).__name__}: {exc}"[:200]

    def seconds_since_success(self) -> float:
        """Seconds since the last success (since the start when there was none yet)."""
        return time.monotonic() - (self.last_success or self.started_at)

    def problem(self) -> str | None:
        """Why the loop is not healthy, or None."""
        if self.thread is not None and not self.thread.is_alive() and not self.stopped:
            return f"dead: the thread ended ({self.last_error or 'no error recorded'})"
        idle = self.seconds_since_success()
        if idle > self.stale_after:
            return f"stale: no success for {idle:.0f} s ({self.last_error or 'no error'})"
        if self.lag > self.stale_after:
            return f"behind: {self.lag:.0f} s of backlog"
        return None


def supervise(health: LoopHealth, stopping: threading.Event, body: Callable[[], None], *,
              base: float = 0.2, cap: float = 5.0) -> None:
    """Call `body` until `stopping` is set; any exception is logged and retried after a
    jittered back-off, so the loop outlives every outage and every bug of one iteration."""
    health.thread = threading.current_thread()
    health.started_at = time.monotonic()
    backoff, failed_at = Backoff(base, cap), 0.0
    try:
        while not stopping.is_set():
            try:
                body()
            except Exception as exc:  # the loop must survive anything; say what happened
                if (health.last_success or 0.0) > failed_at:
                    backoff.reset()  # a long-running body worked since the last failure
                failed_at = time.monotonic()
                health.failed(exc)
                delay = backoff.next()
                if is_transient(exc):
                    log.warning("%s: %s; retrying in %.1f s", health.name,
                                health.last_error, delay)
                else:
                    log.exception("%s failed; retrying in %.1f s", health.name, delay)
                stopping.wait(delay)
            else:
                backoff.reset()
    finally:
        health.stopped = stopping.is_set()
