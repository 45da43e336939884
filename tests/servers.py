"""Start a server process on a free loopback port, wait until it answers, stop it.

The real servers of the tests (Prometheus, Alertmanager, moto, OpenBao, localstripe) all
go through these helpers, so a server that dies at start shows its log instead of a hang.
"""
from __future__ import annotations

import contextlib
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import requests


def free_port() -> int:
    """A loopback port that nothing listened on a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


_HELD: list[socket.socket] = []


def closed_port() -> int:
    """A loopback port where connections are refused for the rest of the test run.

    A `free_port()` is released at once, so the next server a test starts may be handed the
    very same port, and the "dead" dependency answers after all. This one stays bound (never
    listening) until the process exits: connecting is refused and no one else can take it.
    """
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    _HELD.append(sock)
    return sock.getsockname()[1]


def wait_until(check: Callable[[], bool], timeout: float = 30.0, what: str = "server",
               proc: subprocess.Popen | None = None, log: Path | None = None) -> None:
    """Poll `check` (a failed request counts as "not yet") until it is true; raise when
    `timeout` passes or `proc` exits first, with the end of `log` when there is one."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        with contextlib.suppress(requests.RequestException):  # not answering yet
            if check():
                return
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}: {_tail(log)}")
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not become ready in {timeout} s: {_tail(log)}")


def _tail(log: Path | None) -> str:
    return log.read_text(errors="replace")[-2000:] if log and log.exists() else ""


def start(args: list[str], *, ready: str | Callable[[], bool], log: Path | None = None,
          timeout: float = 30.0, what: str = "server") -> subprocess.Popen:
    """Run `args` (output to `log`, or discarded) and wait until `ready` answers: a URL
    that must answer 2xx, or a check function."""
    check = ready if callable(ready) else (lambda: requests.get(ready, timeout=1).ok)
    with open(log or "/dev/null", "wb") as out:  # the child keeps its own copy
        proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_until(check, timeout, what, proc, log)
    except BaseException:
        stop(proc)
        raise
    return proc


def stop(proc: subprocess.Popen) -> None:
    """Terminate, and kill what does not exit within 10 s."""
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


@contextmanager
def running(args: list[str], **kwargs) -> Iterator[subprocess.Popen]:
    """`start` … `stop` around a block."""
    proc = start(args, **kwargs)
    try:
        yield proc
    finally:
        stop(proc)
