"""Service settings from environment variables, each with a default and a reason.

Read once by the process entry point (`python -m platform_services serve ...`) and passed
down; nothing reads the environment at import time, so tests build configs directly.
"""
from __future__ import annotations

import os
from collections.abc import Mapping

from pydantic import Field

from platform_services.common.settings import EnvSettings, OptionalText, Text

SERVICES = ("order", "inventory", "fulfillment", "worker", "auth", "billing", "notification",
            "search")
DEFAULT_PORTS = {"order": 8101, "inventory": 8102, "fulfillment": 8103, "worker": 8104,
                 "auth": 8106, "billing": 8107, "notification": 8108,
                 "search": 8109}


class ServiceConfig(EnvSettings):
    service: str
    database_url: str
    host: str = "127.0.0.1"
    port: int = 0
    # Five kept open and no overflow: under steady load an overflow connection is opened
    # and closed again for nearly every request (a new server backend each time, among the
    # largest costs in the order path's profile), while five kept ones cost the same share
    # of the connection budget.
    db_pool_size: int = Field(5, alias="DB_POOL_SIZE", description=(
        "Connections this process keeps open to PostgreSQL (or PgBouncer); see the connection "
        "budget."))
    db_max_overflow: int = Field(0, alias="DB_MAX_OVERFLOW", description=(
        "Extra connections a burst may open beyond DB_POOL_SIZE (closed again when returned)."))
    db_pool_timeout: float = Field(5.0, alias="DB_POOL_TIMEOUT", description=(
        "Seconds a request waits for a free connection before answering 503 with Retry-After."))
    redis_url: OptionalText = Field(None, alias="REDIS_URL", description=(
        "Redis for idempotency keys, hot cache, locks. Unset: PostgreSQL fallbacks (unique "
        "constraint, advisory locks)."))
    redis_prefix: Text = Field("meridian:", alias="REDIS_KEY_PREFIX", description=(
        "Prefix of every Redis key the services write."))
    rabbitmq_url: OptionalText = Field(None, alias="RABBITMQ_URL", description=(
        "AMQP URL. A PostgreSQL URL instead: queue tables in that database (what `portal dev` "
        "passes). Unset: events wait in the outbox tables."))
    exchange_prefix: Text = Field("", alias="EXCHANGE_PREFIX", description=(
        "Prefix of exchange/queue names (test isolation)."))
    s3_endpoint_url: OptionalText = Field(None, alias="S3_ENDPOINT_URL", description=(
        "S3 endpoint (unset: AWS, or OBJECT_STORE_DIR)."))
    object_store_dir: OptionalText = Field(None, alias="OBJECT_STORE_DIR", description=(
        "Keep objects in this folder instead of S3 (the embedded default of `portal dev`)."))
    s3_region: Text = Field("us-east-1", alias="S3_REGION", description="Region.")
    fulfillment_bucket: Text = Field(
        "meridian-fulfillment", alias="FULFILLMENT_BUCKET", description=(
            "Shipping labels."))
    reports_bucket: Text = Field("meridian-reports", alias="REPORTS_BUCKET", description=(
        "Reports and tenant exports."))
    inventory_url: Text = Field("http://127.0.0.1:8102", alias="INVENTORY_URL", description=(
        "Inventory service base URL (order service)."))
    inventory_timeout: float = Field(5.0, alias="INVENTORY_TIMEOUT", description=(
        "Seconds before a reservation call gives up."))
    idempotency_lease_seconds: float = Field(5.0, alias="IDEMPOTENCY_LEASE_SECONDS", description=(
        "Lifetime of an order's idempotency claim in Redis, renewed while its request runs; a "
        "retry after it lapsed replays the stored order."))
    breaker_fail_max: int = Field(5, alias="BREAKER_FAIL_MAX", description=(
        "Consecutive failures that open the breaker."))
    breaker_reset_seconds: float = Field(30.0, alias="BREAKER_RESET_SECONDS", description=(
        "Open breaker retries after this long."))
    carrier_url: OptionalText = Field(None, alias="CARRIER_URL", description=(
        "Carrier label API. Unset: labels are made locally."))
    retry_base_delay: float = Field(1.0, alias="RETRY_BASE_DELAY", description=(
        "First back-off of consumers and carrier calls, s."))
    max_attempts: int = Field(3, alias="MAX_ATTEMPTS", description=(
        "Failed deliveries before a message goes to *.dlq."))
    relay_interval: float = Field(0.2, alias="RELAY_INTERVAL", description=(
        "Seconds between outbox polls when idle."))
    loop_stale_seconds: float = Field(30.0, alias="LOOP_STALE_SECONDS", description=(
        "A background loop (outbox relay, consumer, flusher) without success or this far behind "
        "for longer makes /readyz `degraded`."))
    heartbeat_file: OptionalText = Field(None, alias="HEARTBEAT_FILE", description=(
        "The background process touches this file every few seconds while none of its loops' "
        "threads has died: its Kubernetes probes check the file's age (it serves no HTTP). "
        "Unset: no file."))
    export_chunk_bytes: int = Field(5242880, alias="EXPORT_CHUNK_BYTES", description=(
        "Export part size (S3 multipart minimum 5 MiB)."))
    api_usage_flush_seconds: float = Field(10.0, alias="API_USAGE_FLUSH_SECONDS", description=(
        "Seconds between writes of the per-tenant request counts to telemetry.api_requests."))
    auth_url: Text = Field("http://127.0.0.1:8106", alias="AUTH_URL", description=(
        "Auth service base URL: its JWKS verifies every request's token; its /oauth/token issues "
        "this service's own."))
    jwt_issuer: Text = Field("https://auth.meridian.local", alias="JWT_ISSUER", description=(
        "`iss` that accepted tokens must carry."))
    jwks_cache_seconds: float = Field(300.0, alias="JWKS_CACHE_SECONDS", description=(
        "How long fetched signing keys are reused (an unknown kid refetches at once)."))
    client_id: OptionalText = Field(None, alias="SERVICE_CLIENT_ID", description=(
        "OAuth client of this service's calls to other services (order → inventory)."))
    client_secret: OptionalText = Field(None, alias="SERVICE_CLIENT_SECRET", description=(
        "Secret of SERVICE_CLIENT_ID."))
    environment: Text = Field("development", alias="SERVICE_ENV", description=(
        "`production`: refuse to start while a secret is unset or a documented default (each is "
        "named)."))
    log_level: Text = Field("INFO", alias="LOG_LEVEL", description="Log level.")
    log_format: Text = Field("json", alias="LOG_FORMAT", description="`json` or `text`.")

    def prefixed(self, name: str) -> str:
        """An exchange or queue name in this deployment's namespace."""
        return f"{self.exchange_prefix}{name}"


def from_env(service: str, environ: Mapping[str, str] | None = None) -> ServiceConfig:
    """Build the config of `service` from environment variables."""
    if service not in SERVICES:
        raise ValueError(f"unknown service {service!r}; one of {', '.join(SERVICES)}")
    env = os.environ if environ is None else environ
    url = env.get("DATABASE_URL", "").strip()
    if not url:
        raise ValueError("DATABASE_URL is required (`portal dev` passes the embedded one)")
    return ServiceConfig.load(env, service=service, database_url=url,
                              host=env.get("SERVICE_HOST", "127.0.0.1"),
                              port=int(env.get("SERVICE_PORT", DEFAULT_PORTS[service])))
