"""Connections a service holds: the PostgreSQL engine, an optional Redis, readiness probes.

Redis is optional everywhere: without REDIS_URL each feature falls back to PostgreSQL
(unique constraints for idempotency, advisory locks for job locks, no hot cache).
"""
from __future__ import annotations

import redis
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url

from platform_services.common.app import Check
from platform_services.common.config import ServiceConfig


def sqlalchemy_url(url: str) -> str:
    """Use psycopg 3 whatever spelling of a PostgreSQL URL was configured."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def make_engine(url: str, pool_size: int = 10) -> Engine:
    """A pooled engine; overflow absorbs bursts instead of failing at pool_size."""
    return create_engine(sqlalchemy_url(url), pool_pre_ping=True, pool_size=pool_size,
                         max_overflow=30, pool_timeout=30)


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
