"""Beat tasks: TTL auto-destroy and the reaper of jobs whose worker was lost."""
from datetime import timedelta

from portal.auth.models import AuditEntry
from portal.db import utcnow
from portal.extensions import db
from portal.selfservice import execution, service, tasks
from tests.unit.selfservice.conftest import dev_env_params


def active_env_job(session, user, name="platform-ttl", **state):
    job = service.request_job(session=session, template_slug="dev-environment",
                              raw=dev_env_params(name=name), requester=user)
    for key, value in state.items():
        setattr(job, key, value)
    session.commit()
    return job


def test_expired_environments_are_destroyed_without_confirmation(app, session, make_user,
                                                                 meridian, sent):
    dev = make_user("developer")
    job = active_env_job(session, dev, status="succeeded")
    job.environment.status, job.environment.expires_at = "active", utcnow() - timedelta(minutes=1)
    fresh = active_env_job(session, dev, name="platform-fresh", status="succeeded")
    fresh.environment.status = "active"
    session.commit()
    ids = tasks.destroy_expired_environments()
    session.expire_all()
    assert len(ids) == 1
    destroy = service.get_job(session=session, job_id=ids[0])
    assert (destroy.action, destroy.gate, destroy.environment_id) == ("destroy", "auto",
                                                                      job.environment_id)
    assert destroy.environment.status == "destroying" and fresh.environment.status == "active"
    assert session.query(AuditEntry).filter_by(action="selfservice.environment.expired").count() == 1
    assert ids[0] in sent


def test_reaper_fails_stale_jobs_only_when_their_lock_is_free(app, session, make_user,
                                                             meridian, sent, connection):
    dev = make_user("developer")
    stale = utcnow() - timedelta(minutes=5)
    lost = active_env_job(session, dev, name="platform-lost", status="running",
                          heartbeat_at=stale)
    alive = active_env_job(session, dev, name="platform-alive", status="running",
                           heartbeat_at=stale)
    beating = active_env_job(session, dev, name="platform-beat", status="running",
                             heartbeat_at=utcnow())
    holder = db.engine.connect()  # another worker still holding the lock of `alive`
    try:
        assert execution.try_lock(holder, alive.target)
        holder.commit()
        assert execution.reap_lost(lost_after=60) == [str(lost.id)]
    finally:
        execution.unlock(holder, alive.target)
        holder.close()
    session.expire_all()
    assert (lost.status, lost.status_reason) == ("failed", "worker lost")
    assert lost.environment.status == "failed"
    assert alive.status == "running" and beating.status == "running"
