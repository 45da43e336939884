"""The beat lock on the real PostgreSQL: one holder at a time, handed over when the holder's
session ends, and a standby scheduler that sends nothing while it waits."""
import secrets
import time

import pika
import pytest
from sqlalchemy import create_engine, text

from portal import beat_lock
from portal.app import create_app
from portal.beat_lock import CHECK_SECONDS, BeatLock, LockedScheduler
from tests.conftest import BROKER_URL

pytestmark = pytest.mark.integration


@pytest.fixture
def key():
    return secrets.randbelow(2**31)  # a lock of this test's own


def test_one_holder_at_a_time_and_the_next_takes_over_when_its_session_ends(database_url, key):
    first, second = BeatLock(database_url, key), BeatLock(database_url, key)
    try:
        assert first.held() is True
        assert second.held() is False
        assert first.held() is True  # checked again: still the same session
        # The holder's session dies (a killed pod): PostgreSQL drops the lock with it.
        pid = first.conn.scalar(text("SELECT pg_backend_pid()"))
        admin = create_engine(database_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            assert conn.scalar(text("SELECT pg_terminate_backend(:p)"), {"p": pid})
        admin.dispose()
        assert first.held() is False  # it notices at its next check and stands by
        assert second.held() is True
        assert first.held() is False
    finally:
        first.release()
        second.release()
        first.engine.dispose()
        second.engine.dispose()


def _pika_url() -> str:
    """Celery spells the default vhost `//`, pika `/%2F`."""
    return BROKER_URL[:-2] + "/%2F" if BROKER_URL.endswith("//") else BROKER_URL


def _queued(queue: str) -> int:
    conn = pika.BlockingConnection(pika.URLParameters(_pika_url()))
    try:
        return conn.channel().queue_declare(queue, passive=True).method.message_count
    except pika.exceptions.ChannelClosedByBroker:
        return 0  # never declared: nothing was sent
    finally:
        if conn.is_open:
            conn.close()


def _delete(queue: str) -> None:
    conn = pika.BlockingConnection(pika.URLParameters(_pika_url()))
    conn.channel().queue_delete(queue)
    conn.close()


def test_a_standby_scheduler_sends_nothing_and_still_beats(base_config, tmp_path, key,
                                                           monkeypatch):
    monkeypatch.setattr(beat_lock, "HEARTBEAT_FILE", tmp_path / "beat.alive")
    queue = f"beat-lock-{secrets.token_hex(4)}"
    celery = create_app(dict(base_config, CELERY_DEFAULT_QUEUE=queue)).extensions["celery"]
    # One entry due every tick, sent to this test's own queue on the real RabbitMQ.
    celery.conf.beat_schedule = {"often": {"task": "portal.auth.tasks.purge_audit_log",
                                           "schedule": 0.01}}
    holder = BeatLock(celery.conf.beat_lock_database_url, key)
    scheduler = LockedScheduler(celery, schedule_filename=str(tmp_path / "schedule"))
    scheduler.lock = BeatLock(celery.conf.beat_lock_database_url, key)
    try:
        assert holder.held()
        time.sleep(0.05)
        assert [scheduler.tick() for _ in range(3)] == [CHECK_SECONDS] * 3
        assert (tmp_path / "beat.alive").exists()
        assert _queued(queue) == 0
        holder.release()  # the holder goes away: this one takes over and sends
        for _ in range(3):
            time.sleep(0.05)
            scheduler.tick()
        assert _queued(queue) >= 1
    finally:
        holder.release()
        scheduler.close()
        holder.engine.dispose()
        _delete(queue)
