"""The services' pool pings a connection only after it sat idle, and replaces one the
server dropped meanwhile (real PostgreSQL; pg_terminate_backend plays the restart)."""
from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError

from platform_services.common import resources

pytestmark = pytest.mark.integration


def test_an_idle_connection_dropped_by_the_server_is_replaced(services_db, monkeypatch):
    monkeypatch.setattr(resources, "PING_AFTER_IDLE_SECONDS", 0.0)
    engine = resources.make_engine(services_db, pool_size=1, max_overflow=0)
    killer = create_engine(services_db)
    try:
        with engine.connect() as conn:
            pid = conn.scalar(text("SELECT pg_backend_pid()"))
        with killer.connect() as conn:
            assert conn.scalar(text("SELECT pg_terminate_backend(:p)"), {"p": pid})
        with engine.connect() as conn:  # the ping fails, the pool connects afresh
            assert conn.scalar(text("SELECT pg_backend_pid()")) != pid
    finally:
        engine.dispose()
        killer.dispose()


def test_a_connection_used_a_moment_ago_is_not_pinged(services_db, monkeypatch):
    """No round trip for it: so a drop shows as one failed use, then a fresh connection."""
    monkeypatch.setattr(resources, "PING_AFTER_IDLE_SECONDS", 3600.0)
    engine = resources.make_engine(services_db, pool_size=1, max_overflow=0)
    killer = create_engine(services_db)
    try:
        with engine.connect() as conn:
            pid = conn.scalar(text("SELECT pg_backend_pid()"))
        with killer.connect() as conn:
            conn.scalar(text("SELECT pg_terminate_backend(:p)"), {"p": pid})
        with pytest.raises(DBAPIError), engine.connect() as conn:
            conn.scalar(text("SELECT 1"))
        with engine.connect() as conn:  # invalidated, then replaced
            assert conn.scalar(text("SELECT pg_backend_pid()")) != pid
    finally:
        engine.dispose()
        killer.dispose()
