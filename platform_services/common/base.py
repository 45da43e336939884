"""The pieces every service builds the same way: metrics, engine, Redis, broker probe."""
from __future__ import annotations

import threading
from dataclasses import dataclass

import redis
from flask import Flask
from sqlalchemy import Table
from sqlalchemy.engine import Engine

from platform_services.common import api_usage, jwt_auth, secrets_check
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


def foundation(config: ServiceConfig, *, log: bool = True,
               pool_size: int | None = None) -> Foundation:
    """Metrics registry, database engine (pool sized by DB_POOL_SIZE, DB_MAX_OVERFLOW) and
    optional Redis for one service; refused in production while a secret is a default."""
    secrets_check.require_safe(config)
    if log:
        configure_logging(config.service, config.log_level, config.log_format)
    engine = make_engine(config.database_url, config.db_pool_size, config.db_max_overflow,
                         config.db_pool_timeout)
    return Foundation(config, Metrics(config.service), engine, make_redis(config))


def broker_check(config: ServiceConfig, flags: list[threading.Event], fallback: str) -> Check:
    """Degradable: without RabbitMQ the service keeps working on `fallback`."""
    def probe() -> str | None:
        if not config.rabbitmq_url:
            return f"not configured ({fallback})"
        if all(flag.is_set() for flag in flags):
            return None
        return f"disconnected ({fallback})"
    return Check("rabbitmq", probe, critical=False)


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
    verifier = jwt_auth.Verifier(keys.key_for, config.jwt_issuer,
                                 jwt_auth.audience_of(config.service))
    jwt_auth.protect(app, verifier, policy, jwt_auth.tenant_lookup(base.engine, tenants))
    app.extensions["auth_url"] = config.auth_url  # whose tokens it takes (tests, operators)
