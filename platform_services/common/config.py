"""Service settings from environment variables, each with a default and a reason.

Read once by the process entry point (`python -m platform_services serve ...`) and passed
down; nothing reads the environment at import time, so tests build configs directly.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from typing import Any

from platform_services.common.settings import from_environ

SERVICES = ("order", "inventory", "fulfillment", "worker", "report", "auth", "billing",
            "notification", "search")
DEFAULT_PORTS = {"order": 8101, "inventory": 8102, "fulfillment": 8103, "worker": 8104,
                 "report": 8105, "auth": 8106, "billing": 8107, "notification": 8108,
                 "search": 8109}


@dataclass(frozen=True)
class ServiceConfig:
    service: str
    database_url: str
    host: str = "127.0.0.1"
    port: int = 0
    # Five kept open and no overflow: under steady load an overflow connection is opened
    # and closed again for nearly every request (a new server backend each time, among the
    # largest costs in the order path's profile), while five kept ones cost the same share
    # of the connection budget.
    db_pool_size: int = field(default=5, metadata={
        "env": "DB_POOL_SIZE", "help": "Connections this process keeps open to PostgreSQL "
                                       "(or PgBouncer); see the connection budget."})
    db_max_overflow: int = field(default=0, metadata={
        "env": "DB_MAX_OVERFLOW", "help": "Extra connections a burst may open beyond "
                                          "DB_POOL_SIZE (closed again when returned)."})
    db_pool_timeout: float = field(default=5.0, metadata={
        "env": "DB_POOL_TIMEOUT", "help": "Seconds a request waits for a free connection "
                                          "before answering 503 with Retry-After."})
    replica_database_url: str | None = field(default=None, metadata={
        "env": "REPLICA_DATABASE_URL", "help": "Read replica for reports (unset: DATABASE_URL)."})
    redis_url: str | None = field(default=None, metadata={
        "env": "REDIS_URL", "help": "Redis for idempotency keys, hot cache, locks. Unset: "
                                    "PostgreSQL fallbacks (unique constraint, advisory locks)."})
    redis_prefix: str = field(default="meridian:", metadata={
        "env": "REDIS_KEY_PREFIX", "help": "Prefix of every Redis key the services write."})
    rabbitmq_url: str | None = field(default=None, metadata={
        "env": "RABBITMQ_URL", "help": "AMQP URL. A PostgreSQL URL instead: queue tables "
                                       "in that database (what `portal dev` passes). Unset: "
                                       "events wait in the outbox tables."})
    exchange_prefix: str = field(default="", metadata={
        "env": "EXCHANGE_PREFIX", "help": "Prefix of exchange/queue names (test isolation)."})
    s3_endpoint_url: str | None = field(default=None, metadata={
        "env": "S3_ENDPOINT_URL", "help": "S3 endpoint (unset: AWS, or OBJECT_STORE_DIR)."})
    object_store_dir: str | None = field(default=None, metadata={
        "env": "OBJECT_STORE_DIR", "help": "Keep objects in this folder instead of S3 "
                                           "(the embedded default of `portal dev`)."})
    s3_region: str = field(default="us-east-1", metadata={"env": "S3_REGION", "help": "Region."})
    fulfillment_bucket: str = field(default="meridian-fulfillment", metadata={
        "env": "FULFILLMENT_BUCKET", "help": "Shipping labels."})
    reports_bucket: str = field(default="meridian-reports", metadata={
        "env": "REPORTS_BUCKET", "help": "Reports and tenant exports."})
    inventory_url: str = field(default="http://127.0.0.1:8102", metadata={
        "env": "INVENTORY_URL", "help": "Inventory service base URL (order service)."})
    inventory_timeout: float = field(default=5.0, metadata={
        "env": "INVENTORY_TIMEOUT", "help": "Seconds before a reservation call gives up."})
    idempotency_lease_seconds: float = field(default=5.0, metadata={
        "env": "IDEMPOTENCY_LEASE_SECONDS", "help": "Lifetime of an order's idempotency "
                                                    "claim in Redis, renewed while its "
                                                    "request runs; a retry after it lapsed "
                                                    "replays the stored order."})
    breaker_fail_max: int = field(default=5, metadata={
        "env": "BREAKER_FAIL_MAX", "help": "Consecutive failures that open the breaker."})
    breaker_reset_seconds: float = field(default=30.0, metadata={
        "env": "BREAKER_RESET_SECONDS", "help": "Open breaker retries after this long."})
    carrier_url: str | None = field(default=None, metadata={
        "env": "CARRIER_URL", "help": "Carrier label API. Unset: labels are made locally."})
    retry_base_delay: float = field(default=1.0, metadata={
        "env": "RETRY_BASE_DELAY", "help": "First back-off of consumers and carrier calls, s."})
    max_attempts: int = field(default=3, metadata={
        "env": "MAX_ATTEMPTS", "help": "Failed deliveries before a message goes to *.dlq."})
    relay_interval: float = field(default=0.2, metadata={
        "env": "RELAY_INTERVAL", "help": "Seconds between outbox polls when idle."})
    loop_stale_seconds: float = field(default=30.0, metadata={
        "env": "LOOP_STALE_SECONDS", "help": "A background loop (outbox relay, consumer, "
                                             "flusher) without success or this far behind "
                                             "for longer makes /readyz `degraded`."})
    heartbeat_file: str | None = field(default=None, metadata={
        "env": "HEARTBEAT_FILE", "help": "The background process touches this file every "
                                         "few seconds while none of its loops' threads has "
                                         "died: its Kubernetes probes check the file's age "
                                         "(it serves no HTTP). Unset: no file."})
    report_cache_seconds: int = field(default=900, metadata={
        "env": "REPORT_CACHE_SECONDS", "help": "Report cache TTL."})
    export_chunk_bytes: int = field(default=5 * 1024 * 1024, metadata={
        "env": "EXPORT_CHUNK_BYTES", "help": "Export part size (S3 multipart minimum 5 MiB)."})
    api_usage_flush_seconds: float = field(default=10.0, metadata={
        "env": "API_USAGE_FLUSH_SECONDS", "help": "Seconds between writes of the per-tenant "
                                                  "request counts to telemetry.api_requests."})
    auth_url: str = field(default="http://127.0.0.1:8106", metadata={
        "env": "AUTH_URL", "help": "Auth service base URL: its JWKS verifies every request's "
                                   "token; its /oauth/token issues this service's own."})
    jwt_issuer: str = field(default="https://auth.meridian.local", metadata={
        "env": "JWT_ISSUER", "help": "`iss` that accepted tokens must carry."})
    jwks_cache_seconds: float = field(default=300.0, metadata={
        "env": "JWKS_CACHE_SECONDS", "help": "How long fetched signing keys are reused (an "
                                             "unknown kid refetches at once)."})
    client_id: str | None = field(default=None, metadata={
        "env": "SERVICE_CLIENT_ID", "help": "OAuth client of this service's calls to other "
                                            "services (order → inventory)."})
    client_secret: str | None = field(default=None, metadata={
        "env": "SERVICE_CLIENT_SECRET", "help": "Secret of SERVICE_CLIENT_ID."})
    environment: str = field(default="development", metadata={
        "env": "SERVICE_ENV", "help": "`production`: refuse to start while a secret is unset "
                                      "or a documented default (each is named)."})
    log_level: str = field(default="INFO", metadata={"env": "LOG_LEVEL", "help": "Log level."})
    log_format: str = field(default="json", metadata={
        "env": "LOG_FORMAT", "help": "`json` or `text`."})

    def with_(self, **changes: Any) -> ServiceConfig:
        """A copy with some values changed (tests, the dev server)."""
        return replace(self, **changes)

    def prefixed(self, name: str) -> str:
        """An exchange or queue name in this deployment's namespace."""
        return f"{self.exchange_prefix}{name}"


def from_env(service: str, environ: dict[str, str] | None = None) -> ServiceConfig:
    """Build the config of `service` from environment variables."""
    if service not in SERVICES:
        raise ValueError(f"unknown service {service!r}; one of {', '.join(SERVICES)}")
    env = os.environ if environ is None else environ
    url = env.get("DATABASE_URL", "").strip()
    if not url:
        raise ValueError("DATABASE_URL is required (`portal dev` passes the embedded one)")
    values: dict[str, Any] = {
        "service": service, "database_url": url,
        "host": env.get("SERVICE_HOST", "127.0.0.1"),
        "port": int(env.get("SERVICE_PORT", DEFAULT_PORTS[service])),
    }
    return ServiceConfig(**values, **from_environ(ServiceConfig, env))
