"""Connections a service holds: the PostgreSQL engine, an optional Redis, readiness probes.

Redis is optional everywhere: without REDIS_URL each feature falls back to PostgreSQL
(unique constraints for idempotency, advisory locks for job locks, no hot cache).
"""
from __future__ import annotations

import time

import redis
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DisconnectionError

from platform_services.common.app import Check
from platform_services.common.config import ServiceConfig

# A connection idle longer than this is pinged before use (see _ping_after_idle).
PING_AFTER_IDLE_SECONDS = 5.0


def sqlalchemy_url(url: str) -> str:
    """Use psycopg 3 whatever spelling of a PostgreSQL URL was configured."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def make_engine(url: str, pool_size: int = 3, max_overflow: int = 2,
                pool_timeout: float = 5.0) -> Engine:
    """A pooled engine bounded by the connection budget (platform_services/README.md).

    Server-side prepared statements are off (`prepare_threshold=None`): behind PgBouncer
    in transaction mode consecutive transactions may run on different server connections,
    where a statement prepared on another one does not exist."""
    engine = create_engine(sqlalchemy_url(url), pool_size=pool_size,
                           max_overflow=max_overflow, pool_timeout=pool_timeout,
                           connect_args={"prepare_threshold": None})
    _ping_after_idle(engine)
    return engine


def _ping_after_idle(engine: Engine) -> None:
    """Ping a pooled connection at checkout only when it sat idle PING_AFTER_IDLE_SECONDS.

    pool_pre_ping cost a round trip on every checkout, though a connection given back a
    moment ago is alive; the ones that die (database restart, an idle timeout of PgBouncer
    or the server) are mostly those left idle. A dead one that was busy recently fails its
    statement once, and SQLAlchemy then invalidates every pooled connection older than it."""
    @event.listens_for(engine, "checkin")
    def _idle_from(_dbapi_conn, record) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping(dbapi_conn, record, _proxy) -> None:
        since = record.info.pop("idle_since", None)
        if since is None or time.monotonic() - since < PING_AFTER_IDLE_SECONDS:
            return
        before = dbapi_conn.autocommit
        try:
            # In autocommit the ping is one round trip and leaves no transaction open.
            dbapi_conn.autocommit = True
            dbapi_conn.execute("SELECT 1")
            dbapi_conn.autocommit = before
        except engine.dialect.loaded_dbapi.Error as exc:
            # The pool discards this connection and checks out another (a fresh one).
            raise DisconnectionError("idle connection failed its ping") from exc


def make_redis(config: ServiceConfig) -> redis.Redis | None:
    """A Redis client with short timeouts, or None when REDIS_URL is unset."""
    if not config.redis_url:
        return None
    return redis.Redis.from_url(config.redis_url, socket_timeout=2, socket_connect_timeout=2,
                                decode_responses=True)


def postgres_check(engine: Engine, name: str = "postgresql") -> Check:
    """Critical: the service cannot answer anything without its database."""
    def probe() -> None:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    return Check(name, probe, critical=True)


def redis_check(client: redis.Redis | None, fallback: str) -> Check:
    """Degradable: without Redis the service runs on its PostgreSQL fallback."""
    def probe() -> str | None:
        if client is None:
            return f"not configured ({fallback})"
        client.ping()
        return None
    return Check("redis", probe, critical=False)
