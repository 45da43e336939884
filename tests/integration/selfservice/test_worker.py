"""Jobs end to end through a real Celery worker on RabbitMQ, running real Terraform."""
from __future__ import annotations

import time
import uuid

import pytest

from portal.auth import service as accounts
from portal.extensions import db
from portal.selfservice import execution, service
from portal.selfservice.models import Job, JobLog
from tests.conftest import FAST_ARGON2
from tests.integration.selfservice.conftest import Worker

pytestmark = pytest.mark.integration
WAIT = 90  # generous upper bound for slow CI machines; nothing asserts on durations


def make_user(*roles):
    with db.session_scope() as session:
        user = accounts.create(session=session, email=f"{uuid.uuid4().hex[:8]}@test.example",
                               name="Test User", password="correct horse battery staple",
                               roles=list(roles), params=FAST_ARGON2)
        return user.id


def request_env(user_id, name):
    with db.session_scope() as session:
        user = accounts.get(session=session, user_id=user_id)
        job = service.request_job(session=session, template_slug="dev-environment",
                                  raw={"name": name, "team": "platform",
                                       "cost_center": "cc-1001", "replicas": "2"},
                                  requester=user)
        return str(job.id)


def wait_for(job_id, predicate, what):
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        with db.session_scope() as session:
            job = session.get(Job, uuid.UUID(job_id))
            if predicate(job):
                return job
        time.sleep(0.2)
    pytest.fail(f"job {job_id} never {what}: {Worker.last_logs()}")


def act(job_id, user_id, fn):
    with db.session_scope() as session:
        job = session.get(Job, uuid.UUID(job_id))
        fn(session=session, job=job, user=accounts.get(session=session, user_id=user_id))


def log_text(job_id):
    with db.session_scope() as session:
        rows = session.query(JobLog).filter_by(job_id=uuid.UUID(job_id)).order_by(JobLog.seq)
        return [(r.seq, r.line) for r in rows]


def test_environment_request_plan_confirm_apply_destroy(worker_app, start_worker):
    worker = start_worker()
    dev = make_user("developer")
    job_id = request_env(dev, "platform-e2e-one")
    job = wait_for(job_id, lambda j: j.status in ("awaiting_approval", "failed"), "planned")
    assert job.status == "awaiting_approval", (job.status_reason, worker.tail())
    assert (job.plan["add"], job.plan["destroy"]) == (6, 0)
    act(job_id, dev, service.confirm)
    job = wait_for(job_id, lambda j: j.finished, "finished")
    assert job.status == "succeeded", job.status_reason
    assert job.environment.status == "active"
    assert job.environment.outputs["url"] == "https://platform-e2e-one.sandbox.meridian.internal"
    lines = log_text(job_id)
    assert [seq for seq, _ in lines] == list(range(1, len(lines) + 1))  # no gaps, no loss
    assert any("Apply complete! Resources: 6 added" in line for _, line in lines)
    assert execution.lock_is_free(db.engine, job.target)

    with db.session_scope() as session:
        env = service.get_environment(session=session, environment_id=job.environment_id)
        destroy_id = str(service.destroy_environment(
            session=session, environment=env, user=accounts.get(session=session, user_id=dev)).id)
    destroy = wait_for(destroy_id, lambda j: j.status == "awaiting_approval", "planned destroy")
    assert destroy.plan["destroy"] == 6
    act(destroy_id, dev, service.confirm)
    destroy = wait_for(destroy_id, lambda j: j.finished, "destroyed")
    assert destroy.status == "succeeded" and destroy.environment.status == "destroyed"


def test_an_environment_applied_again_with_other_parameters_is_updated_in_place(
        worker_app, start_worker):
    """What an incident rollback of a Terraform apply requests: the same template, the
    earlier parameters, applied to the existing environment (its workspace)."""
    start_worker()
    dev = make_user("developer")
    job_id = request_env(dev, "platform-e2e-again")
    wait_for(job_id, lambda j: j.status == "awaiting_approval", "planned")
    act(job_id, dev, service.confirm)
    created = wait_for(job_id, lambda j: j.finished, "finished")
    assert created.status == "succeeded", created.status_reason
    with db.session_scope() as session:
        env = service.get_environment(session=session, environment_id=created.environment_id)
        again_id = str(service.request_job(
            session=session, template_slug="dev-environment", environment=env,
            raw={**created.params, "replicas": "1"},
            requester=accounts.get(session=session, user_id=dev)).id)
    again = wait_for(again_id, lambda j: j.status in ("awaiting_approval", "failed"), "planned")
    assert again.status == "awaiting_approval", again.status_reason
    assert again.action == "update" and again.environment_id == created.environment_id
    assert again.plan["add"] < 6 and again.plan["destroy"] < 6  # changed, not re-created
    act(again_id, dev, service.confirm)
    again = wait_for(again_id, lambda j: j.finished, "finished")
    assert again.status == "succeeded", again.status_reason
    assert again.environment.status == "active"
    assert again.environment.variables["replicas"] == 1
    assert execution.lock_is_free(db.engine, again.target)


def test_worker_killed_mid_apply_ends_failed_worker_lost_with_the_lock_released(
        worker_app, start_worker):
    worker = start_worker(SELFSERVICE_SANDBOX_APPLY_DELAY=60)
    dev = make_user("developer")
    job_id = request_env(dev, "platform-killed")
    wait_for(job_id, lambda j: j.status == "awaiting_approval", "planned")
    act(job_id, dev, service.confirm)
    job = wait_for(job_id, lambda j: j.status == "running" and j.phase == "apply"
                   and any("Creating..." in line for _, line in log_text(job_id)),
                   "started applying")
    assert not execution.lock_is_free(db.engine, job.target)  # held by the worker

    worker.kill()
    deadline = time.monotonic() + WAIT
    while not execution.lock_is_free(db.engine, job.target):  # PostgreSQL drops it
        assert time.monotonic() < deadline
        time.sleep(0.2)
    wait_for(job_id, lambda j: j.heartbeat_at is not None, "beat")
    time.sleep(3.5)  # let the heartbeat go stale past SELFSERVICE_WORKER_LOST_AFTER (3 s)
    with worker_app.app_context():
        assert execution.reap_lost(lost_after=3) == [job_id]  # what the beat task runs
    job = wait_for(job_id, lambda j: j.finished, "reaped")
    assert (job.status, job.status_reason) == ("failed", "worker lost")
    assert job.environment.status == "failed"

    start_worker()  # the redelivered message (acks_late) must not resurrect the job
    retry_id = None
    with db.session_scope() as session:
        old = session.get(Job, uuid.UUID(job_id))
        retry_id = str(service.retry(session=session, job=old,
                                     user=accounts.get(session=session, user_id=dev)).id)
    retried = wait_for(retry_id, lambda j: j.status in ("awaiting_approval", "failed"),
                       "planned after retry")
    assert retried.status == "awaiting_approval", retried.status_reason
    assert str(retried.retry_of_id) == job_id
    assert wait_for(job_id, lambda j: True, "read").status == "failed"
