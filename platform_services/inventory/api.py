"""The inventory service: reservations, stock reads, warehouse sync, event consumers."""
from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, jsonify
from sqlalchemy.engine import Engine

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
from platform_services.common.messaging import Consumer, Delivery, Subscription
from platform_services.common.outbox import first_delivery
from platform_services.common.resources import postgres_check, redis_check
from platform_services.common.runner import PerProcess, Service
from platform_services.common.schemas import parse
from platform_services.common.tenant_cache import TenantCache
from platform_services.common.validation import SKU, parse_order
from platform_services.inventory import service
from platform_services.inventory.cache import StockCache
from platform_services.inventory.models import processed, tenants
from platform_services.inventory.schemas import (
    OPERATIONS,
    WAREHOUSE_PATTERN,
    ReservationRequest,
    WarehouseSync,
)

WAREHOUSE = re.compile(WAREHOUSE_PATTERN)


def _sync_items(data: dict[str, Any]) -> list[dict[str, Any]]:
    items = [item.model_dump() for item in parse(WarehouseSync, data, "invalid sync").items]
    seen: set[str] = set()
    errors = {}
    for i, item in enumerate(items):
        if item["sku"] in seen:
            errors[f"items[{i}].sku"] = "a valid SKU, once per sync"
        seen.add(item["sku"])
    if errors:
        raise ApiError(422, "invalid", "invalid sync", errors)
    return items


def _routes(base: Foundation, cache: StockCache) -> Blueprint:
    bp = Blueprint("inventory", __name__)
    engine, metrics = base.engine, base.metrics
    # Reads and the one-statement reservation need no BEGIN/COMMIT round trips.
    autocommit = engine.execution_options(isolation_level="AUTOCOMMIT")
    tenant_id = TenantCache(engine, tenants).resolve

    def refresh_cache(tid: int, skus: list[str]) -> None:
        _refresh(autocommit, cache, tid, skus)

    @bp.post("/v1/tenants/<tenant>/reservations")
    def reserve(tenant: str):
        body = parse(ReservationRequest, json_body(), "invalid reservation")
        reference = body.reference
        # parse_order merges repeated SKUs into one reservation each.
        req = parse_order(body.model_dump(include={"lines"}))
        tid = tenant_id(tenant)
        try:
            with autocommit.connect() as conn:
                made = service.reserve(conn, tenant_id=tid, reference=reference,
                                       lines=req.lines)
        except ApiError as exc:
            metrics.event("reservation", "insufficient" if exc.status == 409 else "invalid")
            raise
        metrics.event("reservation", "reserved")
        # The statement returned the SKUs' new levels: the cache needs no query of its own.
        for sku, level in made.levels.items():
            cache.write(tid, sku, level)
        return jsonify({"reference": reference, "reservations": made.held}), 201

    @bp.post("/v1/tenants/<tenant>/reservations/<reference>/release")
    def release(tenant: str, reference: str):
        tid = tenant_id(tenant)
        with engine.begin() as conn:
            skus = service.settle(conn, tenant_id=tid, reference=reference,
                                  outcome="released")
        refresh_cache(tid, skus)
        return jsonify({"reference": reference, "released": skus})

    @bp.get("/v1/tenants/<tenant>/stock")
    def stock_levels(tenant: str):
        tid = tenant_id(tenant)
        with autocommit.connect() as conn:
            return jsonify({"stock": service.levels(conn, tenant_id=tid)})

    @bp.get("/v1/tenants/<tenant>/stock/<sku>")
    def stock_of(tenant: str, sku: str):
        tid = tenant_id(tenant)
        if not SKU.match(sku):
            raise ApiError(404, "unknown_sku", f"unknown SKU {sku!r}")

        def load():
            with autocommit.connect() as conn:
                return service.sku_levels(conn, tenant_id=tid, skus=[sku]).get(sku)
        rows, source = cache.read(tid, sku, load)
        if not rows:
            raise ApiError(404, "unknown_sku", f"unknown SKU {sku!r} for this tenant")
        return jsonify({"sku": sku, "source": source, "warehouses": rows,
                        "available": sum(r["available"] for r in rows)})

    @bp.put("/v1/tenants/<tenant>/warehouses/<warehouse>/stock")
    def warehouse_sync(tenant: str, warehouse: str):
        if not WAREHOUSE.match(warehouse):
            raise ApiError(404, "unknown_warehouse", f"invalid warehouse {warehouse!r}")
        items = _sync_items(json_body())
        tid = tenant_id(tenant)
        with engine.begin() as conn:
            skus = service.sync_warehouse(conn, tenant_id=tid, warehouse=warehouse, items=items)
        refresh_cache(tid, skus)
        metrics.event("warehouse_sync", "ok", len(skus))
        return jsonify({"warehouse": warehouse, "synced": len(skus)})

    return bp


def _settle_handler(base: Foundation, cache: StockCache, outcome: str):
    def handle(delivery: Delivery) -> None:
        tid, ref = int(delivery.payload["tenant_id"]), str(delivery.payload["order_id"])
        with base.engine.begin() as conn:
            if not first_delivery(conn, processed, delivery.message_id):
                return
            skus = service.settle(conn, tenant_id=tid, reference=ref, outcome=outcome)
        _refresh(base.engine.execution_options(isolation_level="AUTOCOMMIT"), cache, tid, skus)
    return handle


def _refresh(autocommit: Engine, cache: StockCache, tid: int, skus: list[str]) -> None:
    """Write the committed levels of `skus` to the cache, read in one query."""
    if not skus:
        return
    with autocommit.connect() as conn:
        levels = service.sku_levels(conn, tenant_id=tid, skus=skus)
    for sku, level in levels.items():
        cache.write(tid, sku, level)


POLICY = Policy("inventory", {**REGISTRY_SCOPES, **dlq.SCOPES})


def build(config: ServiceConfig, *, log: bool = True) -> Service:
    """The inventory service and its consumers of shipments and cancellations."""
    base = foundation(config, log=log)
    cache = StockCache(base.redis, config.redis_prefix)
    workers: list[Consumer] = []
    if config.rabbitmq_url:
        workers = [
            Consumer(config, base.metrics, Subscription(
                "inventory.shipments", "fulfillment.events", ("shipment.shipped",),
                _settle_handler(base, cache, "consumed"))),
            Consumer(config, base.metrics, Subscription(
                "inventory.cancellations", "orders.events", ("order.canceled",),
                _settle_handler(base, cache, "released"))),
        ]
    checks = [postgres_check(base.engine),
              broker_check(config, [w.connected for w in workers],
                           "cancellations and shipments wait in the order/fulfillment outboxes"),
              redis_check(base.redis, "stock reads go to PostgreSQL")]
    app = create_service_app(config.service, base.metrics, checks)
    require_tokens(base, app, POLICY, tenants)
    dlq.register(app, config, base.metrics, workers)
    openapi.install(app, "inventory", OPERATIONS)
    app.register_blueprint(tenant_registry.blueprint(base.engine, tenants))
    app.register_blueprint(_routes(base, cache))
    return Service(config.service, app,
                   [*workers, PerProcess(count_api_usage(base, app, tenants))], [base.engine],
                   [base.redis.close] if base.redis else [])
