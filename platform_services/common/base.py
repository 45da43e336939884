"""The pieces every service builds the same way: metrics, engine, Redis, broker probe."""
from __future__ import annotations

import threading
from dataclasses import dataclass

import redis
from flask import Flask
from sqlalchemy import Table, text
from sqlalchemy.engine import Engine

from platform_services.common import api_usage, jwt_auth, messaging, queue_table, secrets_check
from platform_services.common.app import Check
from platform_services.common.config import ServiceConfig
from platform_services.common.observability import Metrics, configure_logging
from platform_services.common.periodic import Periodic
from platform_services.common.resources import make_engine, make_redis


@dataclass
class Foundation:
    config: ServiceConfig
    metrics: Metrics
    engine: Engine
    redis: redis.Redis | None

    def key(self, *parts: object) -> str:
        """A Redis key in this deployment's namespace."""
        return self.config.redis_prefix + ":".join(str(p) for p in parts)


def foundation(config: ServiceConfig, *, log: bool = True) -> Foundation:
    """Metrics registry, database engine (pool sized by DB_POOL_SIZE, DB_MAX_OVERFLOW) and
    optional Redis for one service; refused in production while a secret is a default."""
    secrets_check.require_safe(config)
    if log:
        configure_logging(config.service, config.log_level, config.log_format)
    engine = make_engine(config.database_url, config.db_pool_size, config.db_max_overflow,
                         config.db_pool_timeout)
    return Foundation(config, Metrics(config.service), engine, make_redis(config))


def broker_check(config: ServiceConfig, flags: list[threading.Event], fallback: str) -> Check:
    """Degradable: without RabbitMQ the service keeps working on `fallback`.

    `flags` are the `connected` events of the service's broker workers (relay, consumers).
    Only those whose thread runs in this process count: a gunicorn web process runs none
    (they live in the background process), so it opens and closes a broker connection
    instead, which tells whether the broker answers without relying on threads elsewhere."""
    def probe() -> str | None:
        if not config.rabbitmq_url:
            return f"not configured ({fallback})"
        running = _running_here(flags)
        if running:
            return None if all(flag.is_set() for flag in running) \
                else f"disconnected ({fallback})"
        try:
            _touch_broker(config)
        except messaging.BROKER_ERRORS as exc:
            return f"unreachable: {type(exc).__name__} ({fallback})"
        return None
    return Check("rabbitmq", probe, critical=False)


def _running_here(flags: list[threading.Event]) -> list[threading.Event]:
    """The flags owned by a worker thread alive in this process."""
    owned = [getattr(thread, "connected", None) for thread in threading.enumerate()]
    return [flag for flag in flags if any(flag is mine for mine in owned)]


def _touch_broker(config: ServiceConfig) -> None:
    """Open and close one connection to the broker (AMQP or the queue-table database)."""
    if queue_table.is_table_url(config.rabbitmq_url):
        with queue_table.engine_for(config.rabbitmq_url).connect() as conn:
            conn.execute(text("SELECT 1"))
        return
    messaging.connect(config).close()


def count_api_usage(base: Foundation, app: Flask, tenants: Table) -> Periodic:
    """Count `app`'s per-tenant requests into telemetry.api_requests; the flusher to run."""
    usage = api_usage.ApiUsage(base.config.service, base.engine, tenants)
    flusher = api_usage.attach(app, usage, base.config.api_usage_flush_seconds)
    return flusher.report_to(base.metrics, base.config.loop_stale_seconds)


def require_tokens(base: Foundation, app: Flask, policy: jwt_auth.Policy,
                   tenants: Table) -> None:
    """Every endpoint of `app` but /healthz needs a token from the auth service's issuer
    for this service's audience (keys from its JWKS), per `policy`."""
    config = base.config
    keys = jwt_auth.JwksKeys(f"{config.auth_url.rstrip('/')}/.well-known/jwks.json",
                             cache_seconds=config.jwks_cache_seconds)
    # A verified token is remembered no longer than the JWKS is: a withdrawn key stops
    # its tokens as soon as it would without the cache.
    verified = jwt_auth.VerifiedTokens(max_age=min(60.0, config.jwks_cache_seconds))
    verifier = jwt_auth.Verifier(keys.key_for, config.jwt_issuer,
                                 jwt_auth.audience_of(config.service), verified)
    jwt_auth.protect(app, verifier, policy, jwt_auth.tenant_lookup(base.engine, tenants))
    app.extensions["auth_url"] = config.auth_url  # whose tokens it takes (tests, operators)
