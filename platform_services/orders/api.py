"""The order service: REST API, outbox relay, and the consumer of shipment events."""
from __future__ import annotations

from flask import Blueprint, Response, g, jsonify, request

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
from platform_services.common.runner import PerProcess, Service
from platform_services.common.schemas import parse, parse_query
from platform_services.common.service_tokens import ClientCredentials
from platform_services.common.tenant_cache import TenantCache
from platform_services.common.validation import (
    OrderRequest,
    parse_idempotency_key,
    parse_order,
)
from platform_services.orders import service
from platform_services.orders.idempotency import IdempotencyKeys
from platform_services.orders.inventory_client import InventoryClient
from platform_services.orders.models import outbox, tenants
from platform_services.orders.schemas import OPERATIONS, OrderBody, OrderList


def _routes(base: Foundation, inventory: InventoryClient, keys: IdempotencyKeys,
            relay: OutboxRelay | None) -> Blueprint:
    bp = Blueprint("orders", __name__)
    engine, metrics = base.engine, base.metrics
    # Reads and the one-statement order insert need no BEGIN/COMMIT round trips.
    autocommit = engine.execution_options(isolation_level="AUTOCOMMIT")
    tenant_id = TenantCache(engine, tenants).resolve

    @bp.post("/v1/tenants/<tenant>/orders")
    def create_order(tenant: str):
        body = parse(OrderBody, json_body(), "the order is invalid")
        # parse_order merges repeated SKUs and fingerprints the order for idempotency.
        req = parse_order(body.model_dump(exclude_unset=True))
        key = parse_idempotency_key(request.headers.get("Idempotency-Key"))
        tid = tenant_id(tenant)
        claim = keys.claim(tid, key, req.fingerprint) if key else None
        if claim is not None and key is not None and not claim.owner:  # (a claim has a key)
            return _answer_claim(claim, tid, key, req)
        try:
            # Unless Redis vouched that the key is new, the database may hold its order:
            # Redis is unreachable or absent, or the claim was taken over from a holder
            # whose lease lapsed, which may have stored its order without recording it.
            stored = _stored(tid, key, req) \
                if claim is not None and key is not None and not claim.fresh else None
            order, created = (stored, False) if stored is not None else \
                service.create_and_commit(autocommit, inventory, tenant_id=tid,
                                          tenant=tenant, req=req, key=key,
                                          request_id=g.request_id)
        except BaseException:
            if key:
                keys.abandon(tid, key)
            metrics.event("order_create", "rejected")
            raise
        if key:
            keys.complete(tid, key, req.fingerprint, order["id"])
        if relay is not None:
            relay.wake()
        metrics.event("order_create", "created" if created else "replayed")
        return _order_response(order, replayed=not created)

    def _stored(tid: int, key: str, req: OrderRequest) -> dict | None:
        """The order the database holds under `key`, whoever stored it."""
        with autocommit.connect() as conn:
            return service.earlier_order(conn, tenant_id=tid, key=key, req=req)

    def _answer_claim(claim, tid: int, key: str, req: OrderRequest):
        if claim.fingerprint_mismatch:
            raise ApiError(422, "idempotency_key_reused",
                           "this Idempotency-Key was used for a different order")
        if claim.order_id is not None:
            with autocommit.connect() as conn:
                order = service.get(conn, tenant_id=tid, order_id=claim.order_id)
        else:  # still claimed after the wait: its order may be stored all the same
            order = _stored(tid, key, req)
        if order is None:
            raise ApiError(409, "in_progress", "a request with this Idempotency-Key is "
                                               "still being processed; retry shortly")
        metrics.event("order_create", "replayed")
        return _order_response(order, replayed=True)

    @bp.get("/v1/tenants/<tenant>/orders/<order_id>")
    def get_order(tenant: str, order_id: str):
        tid = tenant_id(tenant)
        with autocommit.connect() as conn:
            order = service.get(conn, tenant_id=tid, order_id=order_id)
        if order is None:
            raise ApiError(404, "not_found", "no such order for this tenant")
        return jsonify(order)

    @bp.get("/v1/tenants/<tenant>/orders")
    def list_orders(tenant: str):
        args = parse_query(OrderList, "invalid listing")
        tid = tenant_id(tenant)
        with autocommit.connect() as conn:
            rows = service.list_recent(conn, tenant_id=tid, status=args.status,
                                       limit=args.limit)
        return jsonify({"orders": rows})

    @bp.post("/v1/tenants/<tenant>/orders/<order_id>/<action>")
    def act_on_order(tenant: str, order_id: str, action: str):
        target = {"confirm": "confirmed", "cancel": "canceled"}.get(action)
        if target is None:
            raise ApiError(404, "not_found", f"no action {action!r} (confirm, cancel)")
        tid = tenant_id(tenant)
        with engine.begin() as conn:
            order = service.transition(conn, tenant_id=tid, tenant=tenant,
                                       order_id=order_id, to=target)
        if relay is not None:
            relay.wake()
        metrics.event(f"order_{action}", "ok")
        return jsonify(order)

    return bp


def _order_response(order: dict, replayed: bool) -> Response:
    """201 with the order, for a replay too: the original response, marked as replayed."""
    response = jsonify(order)
    response.status_code = 201
    if replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response


POLICY = Policy("orders", {**REGISTRY_SCOPES, **dlq.SCOPES})


def build(config: ServiceConfig, *, log: bool = True) -> Service:
    """The order service with its relay (when RabbitMQ is configured) and consumer."""
    base = foundation(config, log=log)
    credentials = ClientCredentials(config.auth_url, config.client_id, config.client_secret) \
        if config.client_id and config.client_secret else None
    inventory = InventoryClient(config.inventory_url, config.inventory_timeout, base.metrics,
                                config.breaker_fail_max, config.breaker_reset_seconds,
                                credentials)
    keys = IdempotencyKeys(base.redis, config.redis_prefix, config.inventory_timeout + 2,
                           config.idempotency_lease_seconds)
    relay = OutboxRelay(config, base.engine, outbox, base.metrics) if config.rabbitmq_url \
        else None
    workers: list[OutboxRelay | Consumer] = [relay] if relay else []
    if config.rabbitmq_url:
        workers.append(Consumer(config, base.metrics, Subscription(
            "orders.shipments", "fulfillment.events", ("shipment.shipped",),
            lambda d: service.on_shipment(base.engine, d.message_id, d.payload))))
    base.metrics.outbox_pending.labels(config.service).set_function(
        lambda: pending_count(base.engine, outbox))
    checks = [postgres_check(base.engine),
              broker_check(config, [w.connected for w in workers],
                           "orders persist; events wait in orders.outbox"),
              redis_check(base.redis, "idempotency by the unique constraint")]
    app = create_service_app(config.service, base.metrics, checks)
    require_tokens(base, app, POLICY, tenants)
    openapi.install(app, "order", OPERATIONS)
    dlq.register(app, config, base.metrics, workers)
    app.register_blueprint(tenant_registry.blueprint(base.engine, tenants))
    app.register_blueprint(_routes(base, inventory, keys, relay))
    return Service(config.service, app,
                   [*workers, PerProcess(count_api_usage(base, app, tenants))], [base.engine],
                   [base.redis.close] if base.redis else [])
