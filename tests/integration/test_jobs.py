"""The shared job plumbing on the real PostgreSQL: sends that wait for the commit, advisory
locks that exclude a second holder and are freed with their session, TCP keepalive on the
lock connections, and the lost-worker reaper. Also the services' mirror of the locks."""
import secrets
from types import SimpleNamespace

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from platform_services.common import locks as service_locks
from portal import jobs

pytestmark = pytest.mark.integration
NS = 4999  # a namespace no area uses


@pytest.fixture(scope="module")
def engine(database_url):
    engine = create_engine(database_url, poolclass=NullPool)  # a killed session is not reused
    yield engine
    engine.dispose()


@pytest.fixture
def key():
    return f"test-target-{secrets.token_hex(4)}"


def _keepalive(conn) -> dict[str, int]:
    return {name: int(conn.scalar(text(f"SHOW {name}"))) for name in jobs.KEEPALIVE}


def test_after_commit_runs_only_when_the_transaction_commits(engine):
    calls, batches = [], []
    with Session(engine) as session:
        session.execute(text("SELECT 1"))
        jobs.after_commit(session, lambda: calls.append("rolled back"))
        jobs.after_commit_batch(session, "test-batch", 1, batches.append)
        session.rollback()
        assert calls == [] and batches == [] and "test-batch" not in session.info

        session.execute(text("SELECT 1"))
        jobs.after_commit(session, lambda: calls.append("committed"))
        jobs.after_commit_batch(session, "test-batch", 2, batches.append)
        jobs.after_commit_batch(session, "test-batch", 3, batches.append)
        assert calls == [] and batches == []  # nothing before the commit
        session.commit()
        assert calls == ["committed"] and batches == [[2, 3]]  # one send for the batch

        session.execute(text("SELECT 1"))
        session.commit()
        assert calls == ["committed"] and batches == [[2, 3]]  # sent once, then forgotten


def test_an_item_taken_back_before_the_commit_is_not_sent(engine):
    batches = []
    with Session(engine) as session:
        session.execute(text("SELECT 1"))
        jobs.after_commit_batch(session, "test-batch", "job-1", batches.append)
        session.info["test-batch"].remove("job-1")
        session.commit()
    assert batches == []


def test_a_lock_excludes_a_second_holder_until_released(engine, key):
    with jobs.advisory_lock(engine, NS, key) as held:
        assert held is True
        with jobs.advisory_lock(engine, NS, key) as twin:
            assert twin is False
        assert not jobs.lock_is_free(engine, NS, key)
        with jobs.advisory_lock(engine, NS, key + "-other") as other:
            assert other is True  # another key is another lock
    assert jobs.lock_is_free(engine, NS, key)


def test_a_lock_is_freed_when_its_holder_s_session_dies(engine, key):
    with jobs.lock_connection(engine) as holder:
        assert jobs.try_lock(holder, NS, key)
        pid = holder.scalar(text("SELECT pg_backend_pid()"))
        with engine.connect() as admin:
            admin.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid})
            admin.commit()
        assert jobs.lock_is_free(engine, NS, key)


def test_the_lock_connection_turns_on_tcp_keepalive(engine):
    with jobs.lock_connection(engine) as conn:
        assert _keepalive(conn) == jobs.KEEPALIVE


def test_reap_lost_fails_only_rows_whose_lock_is_free(engine):
    alive = SimpleNamespace(id=secrets.randbelow(2**30), status="running")
    dead = SimpleNamespace(id=alive.id + 1, status="running")
    with jobs.advisory_lock(engine, NS, alive.id) as held, Session(engine) as session:
        assert held
        lost = jobs.reap_lost(session=session, engine=engine, stale=[alive, dead],
                              namespace=NS, key=lambda row: row.id,
                              fail=lambda row: setattr(row, "status", "failed"))
    assert lost == [dead]
    assert (alive.status, dead.status) == ("running", "failed")


def test_the_services_job_lock_mirrors_it_with_keepalive(engine, key):
    with service_locks.job_lock(client=None, engine=engine, name=key) as held:
        assert held is True
        with service_locks.job_lock(client=None, engine=engine, name=key) as twin:
            assert twin is False
    with engine.begin() as conn:
        service_locks.xact_lock(conn, key)
        assert _keepalive(conn) == service_locks.KEEPALIVE == jobs.KEEPALIVE
        with engine.connect() as other:
            assert not other.scalar(text("SELECT pg_try_advisory_xact_lock(:k)"),
                                    {"k": service_locks.lock_key(key)})
    with engine.connect() as conn:  # SET LOCAL: the settings end with the transaction
        assert _keepalive(conn) != service_locks.KEEPALIVE
