"""The worker service: tenant export jobs from RabbitMQ, or from a database poller when
no broker is configured (jobs are rows first, so none is dropped either way)."""
from __future__ import annotations

import logging
import threading

from flask import Blueprint, jsonify

from platform_services.common import dlq, openapi
from platform_services.common import tenants as tenant_registry
from platform_services.common.app import ApiError, create_service_app, json_body
from platform_services.common.base import (
    Foundation,
    broker_check,
    count_api_usage,
    foundation,
    require_tokens,
)
from platform_services.common.config import ServiceConfig
from platform_services.common.jwt_auth import REGISTRY_SCOPES, Policy
from platform_services.common.messaging import Consumer, Subscription
from platform_services.common.outbox import OutboxRelay, pending_count
from platform_services.common.resources import postgres_check, redis_check
from platform_services.common.runner import Background, PerProcess, Service
from platform_services.common.schemas import parse
from platform_services.common.storage import (
    ObjectStore,
    ensure_bucket_quietly,
    make_store,
    storage_check,
)
from platform_services.worker import service
from platform_services.worker.models import outbox, tenants
from platform_services.worker.schemas import OPERATIONS, ExportRequest

log = logging.getLogger(__name__)


class JobPoller(threading.Thread):
    """Runs queued jobs found in PostgreSQL: the broker-less fallback."""

    def __init__(self, base: Foundation, store: ObjectStore, interval: float = 2.0) -> None:
        super().__init__(name="job-poller", daemon=True)
        self.base, self.store, self.interval = base, store, interval
        self._stopping = threading.Event()

    def stop(self) -> None:
        self._stopping.set()

    def run(self) -> None:
        while not self._stopping.wait(self.interval):
            try:
                for job_id in service.queued_ids(self.base.engine):
                    service.run(self.base, self.store, job_id)
            except Exception:  # keep polling; the failure is in the log and the job row
                log.exception("job poller iteration failed")


def _routes(base: Foundation) -> Blueprint:
    bp = Blueprint("worker", __name__)

    def tenant_id(ref: str) -> int:
        with base.engine.connect() as conn:
            return tenant_registry.resolve(conn, tenants, ref)

    @bp.post("/v1/tenants/<tenant>/exports")
    def create_export(tenant: str):
        parse(ExportRequest, json_body(), "an export takes no options")
        tid = tenant_id(tenant)
        with base.engine.begin() as conn:
            job = service.create(conn, tenant_id=tid, kind="tenant_export", params={})
        return jsonify(job), 202

    @bp.get("/v1/tenants/<tenant>/jobs/<job_id>")
    def get_job(tenant: str, job_id: str):
        tid = tenant_id(tenant)
        with base.engine.connect() as conn:
            job = service.get(conn, tenant_id=tid, job_id=job_id)
        if job is None:
            raise ApiError(404, "not_found", "no such job for this tenant")
        return jsonify(job)

    return bp


POLICY = Policy("worker", {**REGISTRY_SCOPES, **dlq.SCOPES})


def build(config: ServiceConfig, *, log: bool = True) -> Service:
    """The worker service with its job consumer (or poller) and outbox relay."""
    base = foundation(config, log=log)
    store = make_store(config)
    ensure_bucket_quietly(store, config.reports_bucket)
    if config.rabbitmq_url:
        relay = OutboxRelay(config, base.engine, outbox, base.metrics)
        consumer = Consumer(config, base.metrics, Subscription(
            "worker.jobs", "reports.scheduled", ("job.#",),
            lambda d: service.run(base, store, str(d.payload["job_id"]))))
        workers: list[Background] = [relay, consumer]
        flags = [relay.connected, consumer.connected]
    else:
        workers, flags = [JobPoller(base, store)], []
    base.metrics.outbox_pending.labels(config.service).set_function(
        lambda: pending_count(base.engine, outbox))
    checks = [postgres_check(base.engine),
              broker_check(config, flags, "jobs are polled from worker.jobs"),
              redis_check(base.redis, "locks are PostgreSQL advisory locks"),
              storage_check(store, config.reports_bucket)]
    app = create_service_app(config.service, base.metrics, checks)
    require_tokens(base, app, POLICY, tenants)
    dlq.register(app, config, base.metrics, workers)
    openapi.install(app, "worker", OPERATIONS)
    app.register_blueprint(tenant_registry.blueprint(base.engine, tenants))
    app.register_blueprint(_routes(base))
    return Service(config.service, app,
                   [*workers, PerProcess(count_api_usage(base, app, tenants))], [base.engine],
                   [base.redis.close] if base.redis else [])
