"""A background thread that runs a function every N seconds until stopped (usage flush,
invoice retries, index catch-up). It is supervised: a failing run is logged and retried
after a jittered back-off (never longer than the interval), so one bad run or a database
outage never kills the loop; `stop()` lets the run in hand finish."""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from platform_services.common.observability import Metrics
from platform_services.common.supervision import LoopHealth, supervise

log = logging.getLogger(__name__)


class Periodic(threading.Thread):
    """Calls `fn` every `interval` seconds, and once more on stop when `final_run`."""

    def __init__(self, name: str, interval: float, fn: Callable[[], object],
                 final_run: bool = False) -> None:
        super().__init__(name=name, daemon=True)
        self.interval, self.fn, self.final_run = interval, fn, final_run
        self.runs = 0
        # Stale once three runs in a row were missed, unless `report_to` says otherwise.
        self.health = LoopHealth(name, 3 * interval)
        self._metrics: Metrics | None = None
        self._stopping = threading.Event()

    def report_to(self, metrics: Metrics, stale_after: float) -> Periodic:
        """Show this loop in `metrics` and /readyz once started; returns it."""
        self._metrics = metrics
        self.health.stale_after = max(stale_after, 3 * self.interval)
        return self

    def stop(self) -> None:
        """Finish the run in hand (and the final run), then exit."""
        self._stopping.set()

    def run(self) -> None:
        if self._metrics is not None:
            self._metrics.watch(self.health)
        supervise(self.health, self._stopping, self._tick, cap=self.interval)
        if self.final_run:
            try:
                self._run_once()
            except Exception:  # the last flush at shutdown: nothing is left to retry it
                log.exception("final run of %s failed", self.name)

    def _tick(self) -> None:
        if not self._stopping.wait(self.interval):
            self._run_once()

    def _run_once(self) -> None:
        self.runs += 1
        self.fn()
        self.health.ok()
