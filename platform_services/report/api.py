"""The report service: CSV reports on request or on `reports.scheduled` triggers."""
from __future__ import annotations

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
from platform_services.common.jwt_auth import Policy
from platform_services.common.messaging import Consumer, Subscription
from platform_services.common.resources import make_engine, postgres_check, redis_check
from platform_services.common.runner import PerProcess, Service
from platform_services.common.schemas import parse
from platform_services.common.storage import (
    STORAGE_ERRORS,
    ObjectStore,
    ensure_bucket_quietly,
    make_store,
    storage_check,
)
from platform_services.orders.models import tenants
from platform_services.report import service
from platform_services.report.schemas import OPERATIONS, ReportRequest


def _routes(base: Foundation, replica, store: ObjectStore) -> Blueprint:
    bp = Blueprint("report", __name__)

    @bp.post("/v1/tenants/<tenant>/reports")
    def create_report(tenant: str):
        req = parse(ReportRequest, json_body(), "invalid report request")
        with replica.connect() as conn:
            tid = tenant_registry.resolve(conn, tenants, tenant)
        try:
            found = service.generate(base, replica, store, tenant_id=tid, kind=req.kind,
                                     days=req.days)
        except STORAGE_ERRORS as exc:
            raise ApiError(503, "storage_unavailable", "the report could not be stored; "
                                                       "retry shortly") from exc
        return jsonify(found), 201

    return bp


POLICY = Policy("reports", dlq.SCOPES)


def build(config: ServiceConfig, *, log: bool = True) -> Service:
    """The report service, reading from REPLICA_DATABASE_URL when set."""
    base = foundation(config, log=log)
    replica = make_engine(config.replica_database_url) if config.replica_database_url \
        else base.engine
    store = make_store(config)
    ensure_bucket_quietly(store, config.reports_bucket)
    workers = []
    if config.rabbitmq_url:
        workers = [Consumer(config, base.metrics, Subscription(
            "report.scheduled", "reports.scheduled", ("report.#",),
            lambda d: service.generate(base, replica, store,
                                       tenant_id=int(d.payload["tenant_id"]),
                                       kind=str(d.payload["kind"]),
                                       days=int(d.payload.get("days", 30)))))]
    checks = [postgres_check(base.engine),
              postgres_check(replica, "replica") if replica is not base.engine else None,
              broker_check(config, [w.connected for w in workers],
                           "reports on request only"),
              redis_check(base.redis, "no 15-minute cache: every request regenerates"),
              storage_check(store, config.reports_bucket)]
    app = create_service_app(config.service, base.metrics, [c for c in checks if c])
    require_tokens(base, app, POLICY, tenants)
    dlq.register(app, config, base.metrics, workers)
    openapi.install(app, "report", OPERATIONS)
    app.register_blueprint(_routes(base, replica, store))
    engines = [base.engine] + ([replica] if replica is not base.engine else [])
    workers.append(PerProcess(count_api_usage(base, app, tenants)))
    return Service(config.service, app, workers, engines,
                   [base.redis.close] if base.redis else [])
