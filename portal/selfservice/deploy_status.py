"""What ArgoCD says about a deploy: the worker waits for the rollout to settle and records
its outcome on the job; the job page reads the live Application while it progresses.

ArgoCD's health words: Healthy, Progressing, Degraded, Suspended, Missing, Unknown. A deploy
whose application ends Degraded or Missing, or is still Progressing when the wait runs out,
keeps its commit (it did land in git and was synced) but ends flagged, with the resources
that are not healthy named, so nobody mistakes it for a clean release.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from flask import current_app

from portal.integrations.argocd import (
    Application,
    ArgoCDClient,
    ArgoCDError,
    ArgoCDUnavailable,
)
from portal.selfservice.models import FLAGGED_ROLLOUTS, Job
from provisioning import argocd as gitops

Sink = Callable[[str], None]
SETTLED = {"Healthy": "healthy", "Degraded": "degraded", "Missing": "missing",
           "Suspended": "suspended"}
BUSY_PHASES = ("Running", "Terminating")
PAGE_TIMEOUT = 3.0  # seconds: the job page must not hang on a slow ArgoCD


def client(*, timeout: float | None = None) -> ArgoCDClient | None:
    """The configured ArgoCD client (None when ARGOCD_URL is unset)."""
    config = current_app.config
    if not config.get("ARGOCD_URL"):
        return None
    if timeout is None:
        return ArgoCDClient(config["ARGOCD_URL"], config.get("ARGOCD_TOKEN") or "")
    return ArgoCDClient(config["ARGOCD_URL"], config.get("ARGOCD_TOKEN") or "",
                        timeout=timeout, retries=0)


def unhealthy(app: Application) -> list[str]:
    """'Kind namespace/name: Health (message)' of each resource that is not Healthy."""
    found = []
    for res in app.resources:
        if res.health_status in (None, "Healthy"):
            continue
        text = f"{res.kind} {res.namespace}/{res.name}: {res.health_status}"
        found.append(text + (f" ({res.health_message})" if res.health_message else ""))
    return found


def is_settled(app: Application, revision: str) -> bool:
    """True once ArgoCD has applied `revision` and its health is no longer moving."""
    return (app.revision == revision and app.operation_phase not in BUSY_PHASES
            and app.health_status in SETTLED)


class Waiter:
    """Reads the application until it settles, the wait runs out, or the job is stopped."""

    def __init__(self, argocd: ArgoCDClient, *, app: str, revision: str, sink: Sink,
                 wait_seconds: float, poll_seconds: float):
        self.argocd, self.app, self.revision, self.sink = argocd, app, revision, sink
        self.wait_seconds, self.poll_seconds = wait_seconds, poll_seconds
        self._stop = threading.Event()

    def cancel(self) -> None:
        """Stop waiting (the commit stays; the job records what it saw last)."""
        self._stop.set()

    def run(self) -> dict:
        """The rollout outcome: sync, health, revision, outcome and unhealthy resources."""
        deadline = time.monotonic() + self.wait_seconds
        seen, app = None, None
        while True:
            try:
                app = self.argocd.application(self.app, refresh="normal")
            except (ArgoCDUnavailable, ArgoCDError) as exc:
                self.sink(f"ArgoCD: could not read {self.app}: {exc}")
                return _outcome(app, self.revision, "unknown")
            now_seen = (app.sync_status, app.health_status, app.operation_phase, app.revision)
            if now_seen != seen:
                seen = now_seen
                self.sink(f"ArgoCD: {self.app} {app.sync_status}, {app.health_status}"
                          + (f", operation {app.operation_phase}" if app.operation_phase else ""))
                for line in unhealthy(app):
                    self.sink(f"ArgoCD:   {line}")
            if is_settled(app, self.revision):
                return _outcome(app, self.revision, SETTLED[app.health_status])
            if self._stop.is_set() or time.monotonic() >= deadline:
                return _outcome(app, self.revision, "unsettled")
            self._stop.wait(self.poll_seconds)


def _outcome(app: Application | None, revision: str, outcome: str) -> dict:
    if app is None:
        return {"outcome": outcome, "revision": revision}
    return {"outcome": outcome, "sync": app.sync_status, "health": app.health_status,
            "revision": app.revision, "operation": app.operation_phase,
            "unhealthy": unhealthy(app)}


def await_rollout(*, service: str, environment: str, revision: str, sink: Sink,
                  on_runner: Callable[[object], None]) -> dict | None:
    """Wait for ArgoCD to settle the synced `revision`; None when no ArgoCD is configured."""
    argocd = client()
    if argocd is None:
        return None
    config = current_app.config
    waiter = Waiter(argocd, app=gitops.app_name(service, environment), revision=revision,
                    sink=sink, wait_seconds=float(config["SELFSERVICE_ARGOCD_WAIT_SECONDS"]),
                    poll_seconds=float(config["SELFSERVICE_ARGOCD_POLL_SECONDS"]))
    on_runner(waiter)
    result = waiter.run()
    sink(f"ArgoCD: rollout {result['outcome']}")
    return result


def flag_reason(result: dict) -> str | None:
    """Why a finished deploy is flagged although its commit landed, or None."""
    rollout = result.get("rollout") or {}
    outcome = rollout.get("outcome")
    if outcome not in FLAGGED_ROLLOUTS:
        return None
    words = {"degraded": "ArgoCD reports the application Degraded",
             "missing": "ArgoCD reports the application's resources Missing",
             "unsettled": f"ArgoCD still reported it {rollout.get('health', 'Progressing')} "
                          "when the wait ran out",
             "unknown": "ArgoCD could not be read after the sync, so its health is unknown"}
    detail = "; ".join(rollout.get("unhealthy") or [])
    return f"Deployed, but {words[outcome]}" + (f": {detail}." if detail else ".")


@dataclass(frozen=True)
class LiveStatus:
    """The job page's ArgoCD panel: the live application, or why it cannot be shown."""
    app_name: str
    app: Application | None
    error: str | None
    configured: bool

    @property
    def moving(self) -> bool:
        """True while the rollout still changes (the panel keeps polling)."""
        return self.app is not None and (self.app.health_status == "Progressing"
                                         or self.app.operation_phase in BUSY_PHASES)


def live_status(*, job: Job) -> LiveStatus | None:
    """The deploy's application as ArgoCD reports it now (None for other jobs)."""
    if job.action not in ("deploy", "rollback") or "service" not in job.params:
        return None
    name = gitops.app_name(job.params["service"], job.params["environment"])
    argocd = client(timeout=PAGE_TIMEOUT)
    if argocd is None:
        return LiveStatus(name, None, None, configured=False)
    try:
        return LiveStatus(name, argocd.application(name), None, configured=True)
    except ArgoCDUnavailable as exc:
        return LiveStatus(name, None, f"ArgoCD is not answering: {exc}", configured=True)
    except ArgoCDError as exc:
        return LiveStatus(name, None, str(exc), configured=True)
