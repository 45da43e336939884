"""The fulfillment service: consumes confirmed orders, exposes shipment status."""
from __future__ import annotations

import uuid

from flask import Blueprint, jsonify

from platform_services.common import dlq, openapi
from platform_services.common.app import ApiError, create_service_app
from platform_services.common.base import (
    broker_check,
    count_api_usage,
    foundation,
    require_tokens,
)
from platform_services.common.config import ServiceConfig
from platform_services.common.jwt_auth import Policy
from platform_services.common.messaging import Consumer, Subscription
from platform_services.common.outbox import OutboxRelay, pending_count
from platform_services.common.resources import postgres_check
from platform_services.common.runner import PerProcess, Service
from platform_services.common.storage import ensure_bucket_quietly, make_store, storage_check
from platform_services.common.tenants import parse_ref
from platform_services.fulfillment import service
from platform_services.fulfillment.carrier import Carrier
from platform_services.fulfillment.models import outbox
from platform_services.fulfillment.schemas import OPERATIONS
from platform_services.orders.models import tenants  # the order service's registry


def _order_id(value: str) -> str:
    try:
        return str(uuid.UUID(value))
    except ValueError as exc:
        raise ApiError(404, "not_found", "no shipment for this order") from exc


def _tenant(ref: str) -> str:
    """The path's tenant as id digits or slug; 404 for what can name no tenant."""
    value = parse_ref(ref)
    if value is None:
        raise ApiError(404, "unknown_tenant", f"no tenant {ref[:80]!r}")
    return str(value)


def _routes(engine) -> Blueprint:
    bp = Blueprint("fulfillment", __name__)

    @bp.get("/v1/tenants/<tenant>/shipments/<order_id>")
    def shipment(tenant: str, order_id: str):
        found = service.get(engine, tenant=_tenant(tenant), order_id=_order_id(order_id))
        if found is None:
            raise ApiError(404, "not_found", "no shipment for this order")
        return jsonify(found)

    @bp.post("/v1/tenants/<tenant>/shipments/<order_id>/delivered")
    def delivered(tenant: str, order_id: str):
        tenant, oid = _tenant(tenant), _order_id(order_id)
        if service.get(engine, tenant=tenant, order_id=oid) is None:
            raise ApiError(404, "not_found", "no shipment for this order")
        if not service.mark_delivered(engine, tenant=tenant, order_id=oid):
            raise ApiError(409, "illegal_transition", "only a shipped shipment can be delivered")
        return jsonify(service.get(engine, tenant=tenant, order_id=oid))

    return bp


POLICY = Policy("fulfillment", dlq.SCOPES)


def build(config: ServiceConfig, *, log: bool = True) -> Service:
    """The fulfillment service, its consumer of confirmed orders and its outbox relay."""
    base = foundation(config, log=log)
    store = make_store(config)
    ensure_bucket_quietly(store, config.fulfillment_bucket)
    carrier = Carrier(config.carrier_url, config.retry_base_delay)
    workers: list[OutboxRelay | Consumer] = []
    if config.rabbitmq_url:
        relay = OutboxRelay(config, base.engine, outbox, base.metrics)
        consumer = Consumer(config, base.metrics, Subscription(
            "fulfillment.orders", "orders.events", ("order.confirmed",),
            lambda d: service.fulfill(engine=base.engine, carrier=carrier, store=store,
                                      bucket=config.fulfillment_bucket,
                                      metrics=base.metrics, event=d.payload)))
        workers = [relay, consumer]
    base.metrics.outbox_pending.labels(config.service).set_function(
        lambda: pending_count(base.engine, outbox))
    checks = [postgres_check(base.engine),
              broker_check(config, [w.connected for w in workers],
                           "confirmed orders wait in orders.outbox"),
              storage_check(store, config.fulfillment_bucket)]
    app = create_service_app(config.service, base.metrics, checks)
    require_tokens(base, app, POLICY, tenants)
    dlq.register(app, config, base.metrics, workers)
    openapi.install(app, "fulfillment", OPERATIONS)
    app.register_blueprint(_routes(base.engine))
    return Service(config.service, app,
                   [*workers, PerProcess(count_api_usage(base, app, tenants))], [base.engine])
