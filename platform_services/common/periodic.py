"""A background thread that runs a function every N seconds until stopped (usage flush,
invoice retries, index catch-up). A failing run is logged and retried at the next tick,
so one bad run never kills the loop; `stop()` lets the run in hand finish."""
from __future__ import annotations

import logging
import threading
from typing import Callable

log = logging.getLogger(__name__)


class Periodic(threading.Thread):
    """Calls `fn` every `interval` seconds, and once more on stop when `final_run`."""

    def __init__(self, name: str, interval: float, fn: Callable[[], object],
                 final_run: bool = False) -> None:
        super().__init__(name=name, daemon=True)
        self.interval, self.fn, self.final_run = interval, fn, final_run
        self.runs = 0
        self._stopping = threading.Event()

    def stop(self) -> None:
        """Finish the run in hand (and the final run), then exit."""
        self._stopping.set()

    def run(self) -> None:
        while not self._stopping.wait(self.interval):
            self._run_once()
        if self.final_run:
            self._run_once()

    def _run_once(self) -> None:
        try:
            self.fn()
        except Exception:  # the loop must survive a failing run; the next tick retries
            log.exception("periodic task %s failed", self.name)
        self.runs += 1
