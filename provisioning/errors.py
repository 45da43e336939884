"""Why a run stopped before finishing, shared by every runner."""


class RunFailed(Exception):
    """The tool ran and reported failure; the message says why."""


class RunCancelled(RunFailed):
    """Someone asked the run to stop and it did."""


class RunTimedOut(RunFailed):
    """The run exceeded its time budget and was stopped."""
