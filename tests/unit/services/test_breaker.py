"""The order service's circuit breaker: calls run outside its lock (they overlap), it
opens after consecutive failures, and half-opens on a single probe after the reset time."""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from platform_services.orders.breaker import Breaker, CircuitOpen


class Clock:
    """A hand-moved clock, so the reset timeout needs no waiting."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def boom() -> None:
    raise ConnectionError("down")


def test_two_calls_run_at_the_same_time():
    breaker = Breaker(fail_max=5, reset_seconds=30)
    both_inside = threading.Barrier(2, timeout=10)

    def slow_call() -> str:
        both_inside.wait()  # breaks (BrokenBarrierError) unless the other call is inside too
        return "ok"

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(lambda _: breaker.call(slow_call), range(2)))
    assert results == ["ok", "ok"]


def test_it_opens_after_consecutive_failures_and_fails_fast():
    breaker = Breaker(fail_max=2, reset_seconds=30, clock=Clock())
    calls = []
    for _ in range(2):
        with pytest.raises(ConnectionError):
            breaker.call(boom)
    assert breaker.current_state == "open"
    with pytest.raises(CircuitOpen):
        breaker.call(calls.append, "not made")
    assert calls == []


def test_a_success_resets_the_failure_count():
    breaker = Breaker(fail_max=2, reset_seconds=30)
    with pytest.raises(ConnectionError):
        breaker.call(boom)
    assert breaker.call(lambda: 1) == 1
    with pytest.raises(ConnectionError):
        breaker.call(boom)
    assert breaker.current_state == "closed"


def test_excluded_exceptions_are_answers_not_failures():
    class Refused(Exception):
        pass

    def refuse() -> None:
        raise Refused()

    breaker = Breaker(fail_max=1, reset_seconds=30, excluded=(Refused,))
    for _ in range(3):
        with pytest.raises(Refused):
            breaker.call(refuse)
    assert breaker.current_state == "closed"


def test_after_the_reset_time_one_probe_goes_through_and_its_success_closes():
    clock = Clock()
    breaker = Breaker(fail_max=1, reset_seconds=30, clock=clock)
    with pytest.raises(ConnectionError):
        breaker.call(boom)
    clock.now = 29.9
    with pytest.raises(CircuitOpen):
        breaker.call(lambda: "too early")
    clock.now = 30.0
    probe_inside, finish_probe = threading.Event(), threading.Event()

    def probe() -> str:
        probe_inside.set()
        finish_probe.wait(10)
        return "probed"

    with ThreadPoolExecutor(max_workers=1) as pool:
        probing = pool.submit(breaker.call, probe)
        assert probe_inside.wait(10)
        assert breaker.current_state == "half-open"
        with pytest.raises(CircuitOpen):  # only the probe runs while half-open
            breaker.call(lambda: "second caller")
        finish_probe.set()
        assert probing.result(10) == "probed"
    assert breaker.current_state == "closed"
    assert breaker.call(lambda: "flowing") == "flowing"


def test_a_failed_probe_opens_it_again_for_another_reset_time():
    clock = Clock()
    breaker = Breaker(fail_max=3, reset_seconds=30, clock=clock)
    for _ in range(3):
        with pytest.raises(ConnectionError):
            breaker.call(boom)
    clock.now = 31
    with pytest.raises(ConnectionError):
        breaker.call(boom)  # the probe: one failure suffices
    assert breaker.current_state == "open"
    clock.now = 60
    with pytest.raises(CircuitOpen):
        breaker.call(lambda: "still resting")
    clock.now = 61
    assert breaker.call(lambda: "recovered") == "recovered"
