"""Celery beat that sends only while it holds a PostgreSQL advisory lock, so running two
beats (a rolling update, a node that looks dead but is not, a second replica by mistake)
never runs a scheduled task twice: the other one stands by and takes over within seconds
of the holder's death, when PostgreSQL ends its session and with it the lock.

The lock is a session advisory lock on a connection of its own (with portal.jobs' TCP
keepalive, so a vanished host's lock is freed in about 90 s), checked before every send;
the portal reaches PostgreSQL directly (a transaction-pooling PgBouncer would hand the
session to others). Every tick also touches a heartbeat file for the pod's probes.
"""
from __future__ import annotations

import logging
import tempfile
import zlib
from pathlib import Path

from celery.beat import PersistentScheduler
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from portal import jobs

log = logging.getLogger(__name__)
LOCK_KEY = zlib.crc32(b"portal:celery-beat")
# How often a standby retries the lock, and the longest a holder sleeps between checks
# (and heartbeats).
CHECK_SECONDS = 5.0
HEARTBEAT_FILE = Path(tempfile.gettempdir()) / "celery-beat.alive"


class BeatLock:
    """The advisory lock `key`, held by one dedicated connection while it lives."""

    def __init__(self, url: str, key: int = LOCK_KEY) -> None:
        self.engine = create_engine(url, poolclass=NullPool,
                                    isolation_level="AUTOCOMMIT", pool_pre_ping=False)
        self.key = key
        self.conn: Connection | None = None

    def held(self) -> bool:
        """Whether this process holds the lock now, taking it when it is free."""
        try:
            if self.conn is not None:
                self.conn.execute(text("SELECT 1"))  # same session, so still ours
                return True
            conn = self.engine.connect()
            jobs.set_keepalive(conn)
            if jobs.try_lock(conn, None, self.key):
                self.conn = conn
                log.info("beat lock taken: this beat sends the scheduled tasks")
                return True
            conn.close()
        except SQLAlchemyError as exc:
            # The session is gone, so is the lock: stand by until it can be taken again.
            log.warning("beat lock lost or unavailable: %s", exc)
            self.release()
        return False

    def release(self) -> None:
        """Close the session (PostgreSQL drops its locks with it)."""
        if self.conn is not None:
            try:
                self.conn.close()
            except SQLAlchemyError:
                pass
            self.conn = None


class LockedScheduler(PersistentScheduler):
    """PersistentScheduler that sends due tasks only while holding the beat lock."""

    def __init__(self, app, *args, **kwargs) -> None:
        self.lock = BeatLock(app.conf.beat_lock_database_url)
        super().__init__(app, *args, **kwargs)

    def tick(self, *args, **kwargs) -> float:
        HEARTBEAT_FILE.touch()
        if not self.lock.held():
            return CHECK_SECONDS
        return min(super().tick(*args, **kwargs), CHECK_SECONDS)

    def close(self) -> None:
        super().close()
        self.lock.release()
