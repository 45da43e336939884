"""Supervised loops: outages told from bad messages, jittered back-off, loops that outlive
any exception, and /readyz naming a loop that is dead or stale."""
from __future__ import annotations

import threading
import time

import pika.exceptions
import pytest
import requests
from prometheus_client import generate_latest
from sqlalchemy.exc import IntegrityError, OperationalError

from platform_services.common.app import run_checks
from platform_services.common.observability import Metrics
from platform_services.common.periodic import Periodic
from platform_services.common.supervision import Backoff, LoopHealth, is_transient, supervise


def _wrapped(cause: BaseException) -> Exception:
    try:
        raise RuntimeError("the handler gave up") from cause
    except RuntimeError as exc:
        return exc


@pytest.mark.parametrize("exc", [
    OperationalError("SELECT 1", {}, Exception("server closed the connection")),
    pika.exceptions.AMQPConnectionError("refused"), requests.ConnectionError("refused"),
    requests.Timeout("slow"), ConnectionResetError("reset"),
    _wrapped(OperationalError("SELECT 1", {}, Exception("terminating connection"))),
])
def test_outages_are_transient(exc):
    assert is_transient(exc)


@pytest.mark.parametrize("exc", [
    ValueError("bad payload"), KeyError("sku"), FileNotFoundError("label.pdf"),
    IntegrityError("INSERT", {}, Exception("duplicate key")), _wrapped(ValueError("bad")),
])
def test_failures_of_the_message_itself_are_permanent(exc):
    assert not is_transient(exc)


def test_backoff_doubles_up_to_its_cap_with_jitter_and_resets():
    backoff = Backoff(1.0, 4.0)
    delays = [backoff.next() for _ in range(5)]
    for delay, ceiling in zip(delays, [1, 2, 4, 4, 4]):
        assert ceiling / 2 <= delay <= ceiling
    assert len({round(d, 6) for d in delays[2:]}) > 1  # jittered, not in lock-step
    backoff.reset()
    assert backoff.next() <= 1.0


def test_a_supervised_loop_survives_any_exception_and_records_its_success():
    health, stopping, calls = LoopHealth("flaky", 30), threading.Event(), []

    def body():
        calls.append(1)
        if len(calls) <= 3:
            raise [ValueError, OperationalError("x", {}, Exception()), KeyError][len(calls) - 1]
        health.ok(lag=1.5)
        if len(calls) == 6:
            stopping.set()

    thread = threading.Thread(target=supervise, args=(health, stopping, body),
                              kwargs={"base": 0.01, "cap": 0.02})
    thread.start()
    thread.join(5)
    assert not thread.is_alive() and len(calls) == 6
    assert health.problem() is None and health.lag == 1.5 and health.stopped


def test_a_loop_whose_thread_ended_is_dead_and_a_quiet_one_is_stale():
    dead, stopping = LoopHealth("relay", 30), threading.Event()

    def body():
        raise SystemExit("killed")  # not an Exception: the supervisor lets it end the thread

    def target():
        try:
            supervise(dead, stopping, body)
        except SystemExit:
            pass  # what killed the thread; the health record must say it is dead

    thread = threading.Thread(target=target)
    thread.start()
    thread.join(5)
    assert dead.problem().startswith("dead")
    stale = LoopHealth("consumer", 0.05)
    stale.failed(OperationalError("x", {}, Exception("connection refused")))
    time.sleep(0.1)
    assert stale.problem().startswith("stale") and "connection refused" in stale.problem()
    behind = LoopHealth("relay", 10)
    behind.ok(lag=11)
    assert behind.problem().startswith("behind")


def test_periodic_keeps_running_after_failures_and_readyz_names_it_when_stale():
    metrics, runs = Metrics("billing"), []

    def flush():
        runs.append(1)
        if len(runs) % 2:
            raise OperationalError("INSERT", {}, Exception("connection refused"))

    loop = Periodic("usage-flush", 0.02, flush).report_to(metrics, 1.0)
    loop.start()
    try:
        deadline = time.monotonic() + 5
        while len(runs) < 6 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert loop.is_alive() and len(runs) >= 6
        assert run_checks([], metrics)[1]["checks"]["loop:usage-flush"] == "ok"
        loop.stop()  # no more successes: it goes stale once stale_after has passed
        loop.join(5)
        loop.health.stale_after = 0.05
        time.sleep(0.1)
        status, body = run_checks([], metrics)
        assert (status, body["status"]) == (200, "degraded")
        assert body["failed"] == ["loop:usage-flush"]
        assert body["checks"]["loop:usage-flush"].startswith("stale")
    finally:
        loop.stop()
        loop.join(5)
    assert 'meridian_loop_seconds_since_success{loop="usage-flush",service="billing"}' in \
        generate_latest(metrics.registry).decode()
