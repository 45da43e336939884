"""A consecutive-failure circuit breaker whose lock guards only its counters.

The call itself runs outside the lock, so concurrent calls to a healthy dependency
overlap (pybreaker's `call` holds its lock for the whole call, which serialised every
inventory request of a process behind the slowest one).
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")
CLOSED, OPEN, HALF_OPEN = "closed", "open", "half-open"


class CircuitOpen(Exception):
    """The breaker is open (or its single half-open probe is in flight): fail fast."""


class Breaker:
    """Opens after `fail_max` consecutive failures; after `reset_seconds` one probe call
    goes through (half-open): its success closes the breaker, its failure re-opens it.
    Exceptions in `excluded` are answers, not failures, and count as successes."""

    def __init__(self, fail_max: int, reset_seconds: float,
                 excluded: tuple[type[BaseException], ...] = (),
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.fail_max, self.reset_seconds = fail_max, reset_seconds
        self.excluded, self.clock = excluded, clock
        self._lock = threading.Lock()
        self._state, self._failures, self._opened_at = CLOSED, 0, 0.0

    @property
    def current_state(self) -> str:
        """closed, open or half-open (open stays open until a call probes it)."""
        return self._state

    def call(self, fn: Callable[..., T], *args) -> T:
        """Run `fn(*args)` unless the breaker is open; record how it went."""
        probe = self._admit()
        try:
            result = fn(*args)
        except self.excluded:
            self._succeeded()
            raise
        except BaseException:
            self._failed(probe)
            raise
        self._succeeded()
        return result

    def _admit(self) -> bool:
        """Whether this call is the half-open probe; CircuitOpen when it may not run."""
        with self._lock:
            if self._state == CLOSED:
                return False
            if self._state == OPEN and self.clock() - self._opened_at >= self.reset_seconds:
                self._state = HALF_OPEN
                return True
        raise CircuitOpen(f"circuit breaker is {self._state}")

    def _succeeded(self) -> None:
        with self._lock:
            self._state, self._failures = CLOSED, 0

    def _failed(self, probe: bool) -> None:
        with self._lock:
            self._failures += 1
            if probe or self._failures >= self.fail_max:
                self._state, self._opened_at = OPEN, self.clock()
