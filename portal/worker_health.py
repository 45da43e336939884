"""A heartbeat file touched from the Celery worker's own timer, for the pod's probes: a
worker whose event loop is stuck stops touching it and is restarted. Cheaper than
`celery inspect ping`, which starts a whole second Celery client per probe."""
from __future__ import annotations

import tempfile
from pathlib import Path

from celery import bootsteps

HEARTBEAT_FILE = Path(tempfile.gettempdir()) / "celery-worker.alive"
HEARTBEAT_SECONDS = 10.0


def _touch() -> None:
    HEARTBEAT_FILE.touch()


class Heartbeat(bootsteps.StartStopStep):
    """Touch HEARTBEAT_FILE every HEARTBEAT_SECONDS while the worker runs."""

    requires = ("celery.worker.components:Timer",)

    def __init__(self, worker, **kwargs) -> None:
        super().__init__(worker, **kwargs)
        self.timer_ref = None

    def start(self, worker) -> None:
        _touch()
        self.timer_ref = worker.timer.call_repeatedly(HEARTBEAT_SECONDS, _touch, priority=10)

    def stop(self, worker) -> None:
        if self.timer_ref is not None:
            self.timer_ref.cancel()
        HEARTBEAT_FILE.unlink(missing_ok=True)
