"""A job phase inside the worker: target lock, heartbeat, log lines, final state.

The lock is a PostgreSQL session advisory lock on the job's target, held on a dedicated
connection for the whole run (portal.jobs): when the worker process dies its connection
closes and PostgreSQL releases the lock by itself, so "is the lock free?" tells a
redelivered task (or the reaper) that the previous run is gone and the job can be failed
as worker lost.
"""
from __future__ import annotations

import logging
import threading
import uuid

from flask import current_app
from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

from portal import jobs
from portal.auth import audit
from portal.db import utcnow
from portal.extensions import db
from portal.selfservice import (
    deploy_status,
    dispatch,
    job_templates,
    plan_policy,
    review,
    service,
)
from portal.selfservice.engines import JobSpec, run_phase
from portal.selfservice.models import Job, JobLog
from provisioning.errors import RunCancelled, RunFailed, RunTimedOut

log = logging.getLogger(__name__)
LOCK_NAMESPACE = 4000  # first key of every self-service advisory lock
WORKER_LOST = "worker lost"
MAX_LINE = 4000


class LockBusy(Exception):
    """Another job holds the target's lock; try again later."""


def try_lock(conn: Connection, target: str) -> bool:
    return jobs.try_lock(conn, LOCK_NAMESPACE, target)


def unlock(conn: Connection, target: str) -> None:
    jobs.unlock(conn, LOCK_NAMESPACE, target)


def lock_is_free(engine: Engine, target: str) -> bool:
    """True when nobody holds the target's lock right now."""
    return jobs.lock_is_free(engine, LOCK_NAMESPACE, target)


def run_job(job_id: str, *, worker: str) -> str:
    """Run the job's queued phase; returns what happened ('skipped', 'planned', ...)."""
    with jobs.lock_connection(db.engine) as conn:
        spec, target = _start(job_id, conn=conn, worker=worker)
        if spec is None:
            return target  # 'skipped' or 'worker lost'
        try:
            return _run(spec, worker=worker)
        finally:
            unlock(conn, target)


def _start(job_id: str, *, conn: Connection, worker: str) -> tuple[JobSpec | None, str]:
    with db.session_scope() as session:
        job = session.get(Job, uuid.UUID(job_id), with_for_update={"of": Job})
        if job is None or job.status not in ("queued", "running"):
            return None, "skipped"
        if job.status == "running":
            if not try_lock(conn, job.target):
                return None, "skipped"  # the first delivery is alive and holds the lock
            unlock(conn, job.target)
            service.finish(session=session, job=job, status="failed", reason=WORKER_LOST)
            _audit(session, job, "failed", {"reason": WORKER_LOST})
            return None, WORKER_LOST
        if not try_lock(conn, job.target):
            raise LockBusy(f"{job.target} is locked by another job")
        try:
            _mark_running(session, job, worker)
        except Exception:
            unlock(conn, job.target)
            raise
        return _spec(job), job.target


def _mark_running(session, job: Job, worker: str) -> None:
    now = utcnow()
    job.status, job.worker, job.heartbeat_at, job.cancel_requested = "running", worker, now, False
    job.started_at = job.started_at or now
    if job.environment is not None:
        job.environment.status = "destroying" if job.action == "destroy" else (
            "provisioning" if job.environment.status == "requested" else job.environment.status)
    session.flush()
    _audit(session, job, f"{job.phase}_started", {"worker": worker})
    service.record_step(session=session, job=job, step=f"{job.phase} started", actor_email=None)


def _spec(job: Job) -> JobSpec:
    template = job_templates.get(job.template)
    assert template is not None, job.template  # jobs are only requested from known templates
    return JobSpec(id=str(job.id), engine=template.engine, action=job.action, tier=job.tier,
                   phase=job.phase, params=dict(job.params),
                   tags=dict(job.environment.tags) if job.environment else {},
                   timeout=job.timeout_seconds, requester_name=job.requested_by.name,
                   requester_email=job.requested_by.email,
                   approver_email=job.approved_by.email if job.approved_by else None)


def _run(spec: JobSpec, *, worker: str) -> str:
    logs = LogWriter(db.engine, spec.id)
    runner_box: list = []
    heartbeat = Heartbeat(db.engine, spec.id, float(current_app.config["SELFSERVICE_HEARTBEAT_SECONDS"]),
                          on_cancel=lambda: runner_box and runner_box[0].cancel())
    heartbeat.start()
    status, reason, outcome = "succeeded", None, None
    try:
        logs.write(f"== {spec.phase} on {worker}")
        outcome = run_phase(spec, sink=logs.write, on_runner=runner_box.append)
    except RunCancelled as exc:
        status, reason = "cancelled", str(exc)
    except RunTimedOut as exc:
        status, reason = "failed", f"timed out: {exc}"
    except RunFailed as exc:
        status, reason = "failed", str(exc)
    except Exception as exc:  # an engine bug must still end the job, not leave it running
        log.exception("job %s crashed", spec.id)
        status, reason = "failed", f"internal error: {type(exc).__name__}: {exc}"
    finally:
        heartbeat.stop()
    if reason:
        logs.write(f"== {status}: {reason}")
    logs.close()
    return _complete(spec, status=status, reason=reason, outcome=outcome, worker=worker)


def _complete(spec: JobSpec, *, status: str, reason: str | None, outcome: dict | None,
              worker: str) -> str:
    with db.session_scope() as session:
        job = session.get(Job, uuid.UUID(spec.id), with_for_update={"of": Job})
        if job is None or job.status != "running" or job.worker != worker:
            return "superseded"  # reaped as lost meanwhile
        if status != "succeeded":
            service.finish(session=session, job=job, status=status, reason=reason)
            _audit(session, job, status, {"reason": reason})
            return status
        assert outcome is not None  # a phase that succeeded returned its plan or result
        if job.phase == "plan":
            return _planned(session, job, outcome)
        _applied(session, job, outcome)
        return "succeeded"


def _planned(session, job: Job, plan: dict) -> str:
    job.plan, job.planned_at, job.heartbeat_at = plan, utcnow(), None
    _audit(session, job, "planned", {"plan": {k: v for k, v in plan.items()
                                              if k not in ("resources", "policies", "review")}})
    denials = plan_policy.plan_denials(plan.get("policies") or [])
    if denials:
        reason = "Apply refused by plan policy: " + "; ".join(denials) + "."
        service.finish(session=session, job=job, status="failed", reason=reason)
        _audit(session, job, "failed", {"reason": reason})
        return "refused"
    if job.gate == "auto":
        job.phase = "apply"
        service.queue_phase(session=session, job=job)
        return "planned"
    job.status = "awaiting_approval"
    session.flush()
    if job.gate == "approval":
        review.awaiting_approval(session=session, job=job)
    service.record_step(session=session, job=job, step="planned, awaiting approval",
                        actor_email=None)
    return "planned"


def _applied(session, job: Job, result: dict) -> None:
    job.result = result
    env = job.environment
    if env is not None and job.action == "destroy":
        env.status, env.destroyed_at, env.outputs = "destroyed", utcnow(), {}
    elif env is not None:
        env.status, env.outputs = "active", result.get("outputs", {})
        if job.action == "update":  # what a later destroy plans with is what now runs
            env.variables = {**env.variables, "replicas": job.params.get("replicas", 1)}
    service.finish(session=session, job=job, status="succeeded",
                   reason=deploy_status.flag_reason(result))
    _audit(session, job, "succeeded", {k: v for k, v in result.items() if k != "outputs"})


def _audit(session, job: Job, step: str, details: dict) -> None:
    audit.record(session=session, action=f"selfservice.job.{step}",
                 actor_email="selfservice-worker", target_type="selfservice_job",
                 target_id=job.id, details={"template": job.template, **details})


def run_here(*, session, job: Job, worker: str) -> None:
    """Run the job's queued phases in this process and session until it waits at a gate or
    ends (the demo seed: no broker, nothing committed yet); a busy target stays queued."""
    with jobs.lock_connection(db.engine) as conn:
        while job.status == "queued" and try_lock(conn, job.target):
            try:
                dispatch.unschedule(session=session, job_id=job.id)
                _run_phase_here(session, job, worker)
            finally:
                unlock(conn, job.target)


def _run_phase_here(session, job: Job, worker: str) -> None:
    _mark_running(session, job, worker)
    spec = _spec(job)
    lines = [f"== {spec.phase} on {worker}"]
    try:
        outcome = run_phase(spec, sink=lines.append, on_runner=lambda runner: None)
    except RunFailed as exc:
        lines.append(f"== failed: {exc}")
        outcome = None
        service.finish(session=session, job=job, status="failed", reason=str(exc))
        _audit(session, job, "failed", {"reason": str(exc)})
    first = session.query(JobLog).filter_by(job_id=job.id).count() + 1
    session.add_all(JobLog(job_id=job.id, seq=first + i, line=line[:MAX_LINE])
                    for i, line in enumerate(lines))
    if outcome is not None and job.phase == "plan":
        _planned(session, job, outcome)
    elif outcome is not None:
        _applied(session, job, outcome)
    session.flush()


def reap_lost(*, lost_after: int) -> list[str]:
    """Fail running jobs whose heartbeat stopped and whose lock is free (worker lost)."""
    with db.session_scope() as session:
        def fail(job: Job) -> None:
            service.finish(session=session, job=job, status="failed", reason=WORKER_LOST)
            _audit(session, job, "failed", {"reason": WORKER_LOST})

        lost = jobs.reap_lost(session=session, engine=db.engine,
                              stale=service.stale_jobs(session=session, lost_after=lost_after),
                              namespace=LOCK_NAMESPACE, key=lambda job: job.target, fail=fail)
        return [str(job.id) for job in lost]


class LogWriter:
    """Appends a job's log lines with consecutive offsets, each visible at once."""

    def __init__(self, engine: Engine, job_id: str):
        self.conn = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        self.job_id = job_id
        self.lock = threading.Lock()
        self.seq: int = self.conn.execute(
            text("SELECT coalesce(max(seq), 0) FROM selfservice_job_logs WHERE job_id = :j"),
            {"j": job_id}).scalar_one()  # an aggregate: always one row, never NULL here

    def write(self, line: str) -> None:
        with self.lock:
            self.seq += 1
            self.conn.execute(text("INSERT INTO selfservice_job_logs (job_id, seq, at, line) "
                                   "VALUES (:j, :s, now(), :l)"),
                              {"j": self.job_id, "s": self.seq, "l": line[:MAX_LINE]})

    def close(self) -> None:
        self.conn.close()


class Heartbeat(threading.Thread):
    """Beats every `interval` seconds and relays a cancel request to the running engine."""

    def __init__(self, engine: Engine, job_id: str, interval: float, on_cancel):
        super().__init__(daemon=True, name=f"heartbeat-{job_id[:8]}")
        self.engine, self.job_id, self.interval, self.on_cancel = engine, job_id, interval, on_cancel
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.wait(self.interval):
            try:
                with self.engine.begin() as conn:
                    cancel = conn.execute(text(
                        "UPDATE selfservice_jobs SET heartbeat_at = now() "
                        "WHERE id = :j AND status = 'running' RETURNING cancel_requested"),
                        {"j": self.job_id}).scalar()
            except Exception:  # a missed beat is retried; the reaper allows several
                log.warning("heartbeat of job %s failed", self.job_id, exc_info=True)
                continue
            if cancel:
                self.on_cancel()

    def stop(self) -> None:
        self._stop_event.set()
        self.join(timeout=10)
