"""The search service: product search per tenant, product loading, reindex, and the
consumer of product events (`inventory.events`, `product.upserted` / `product.deleted`)."""
from __future__ import annotations

import logging
from datetime import UTC, datetime

from flask import Blueprint, jsonify
from prometheus_client import Gauge

from platform_services.common import dlq, openapi
from platform_services.common import settings as service_settings
from platform_services.common import tenants as tenant_registry
from platform_services.common.app import ApiError, Check, create_service_app, json_body
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
from platform_services.common.periodic import Periodic
from platform_services.common.resources import postgres_check
from platform_services.common.runner import PerProcess, Service
from platform_services.common.schemas import parse, parse_query
from platform_services.search import catalog, indexer
from platform_services.search.es_index import ES_ERRORS, ProductIndex
from platform_services.search.models import processed, tenants
from platform_services.search.schemas import OPERATIONS, ProductBatch, SearchQuery
from platform_services.search.settings import SearchSettings

log = logging.getLogger(__name__)


def _search(base: Foundation, index: ProductIndex | None, tid: int, q: str,
            category: str | None, limit: int) -> tuple[str, list]:
    if index is not None:
        try:
            return "elasticsearch", index.search(tid, q, category, limit)
        except ES_ERRORS as exc:
            base.metrics.event("search", "fallback")
            log.warning("search falls back to PostgreSQL: %s", exc)
    with base.engine.connect() as conn:
        return "postgresql", catalog.pg_search(conn, tid, q, category, limit)


def _routes(base: Foundation, index: ProductIndex | None, settings: SearchSettings) -> Blueprint:
    bp = Blueprint("search", __name__)
    engine = base.engine

    def tenant_id(ref: str) -> int:
        with engine.connect() as conn:
            return tenant_registry.resolve(conn, tenants, ref)

    @bp.get("/v1/tenants/<tenant>/search")
    def search(tenant: str):
        args = parse_query(SearchQuery, "invalid search")
        tid = tenant_id(tenant)
        backend, hits = _search(base, index, tid, args.q, args.category, args.limit)
        base.metrics.event("search", backend)
        return jsonify({"backend": backend, "query": args.q, "hits": hits})

    @bp.put("/v1/tenants/<tenant>/products")
    def load_products(tenant: str):
        batch = parse(ProductBatch, json_body(), "invalid products")
        # parse_batch fills in the defaults (a version from the clock) the model leaves out.
        items = catalog.parse_batch([p.model_dump(exclude_none=True) for p in batch.products])
        tid = tenant_id(tenant)
        with engine.begin() as conn:
            changed = catalog.upsert(conn, tid, items)
        return jsonify({"received": len(items), "changed": changed})

    @bp.post("/v1/tenants/<tenant>/reindex")
    def reindex(tenant: str):
        if index is None:
            raise ApiError(409, "no_elasticsearch", "ELASTICSEARCH_URL is not set; "
                                                    "PostgreSQL search needs no reindex")
        tid, started = tenant_id(tenant), datetime.now(UTC)
        try:
            name = index.reindex(tid, indexer.tenant_batches(engine, tid, settings.index_batch))
        except ES_ERRORS as exc:
            raise ApiError(503, "elasticsearch_unavailable", f"reindex failed: {exc}") from exc
        replayed = indexer.replay_since(engine, tid, started)
        base.metrics.event("reindex", "ok")
        return jsonify({"index": name, "alias": index.alias(tid), "replayed": replayed})

    return bp


def product_handler(base: Foundation):
    """Applies product.upserted / product.deleted once per message id."""
    def handle(delivery: Delivery) -> None:
        payload = delivery.payload
        errors: dict[str, str] = {}
        tid = payload.get("tenant_id")
        if delivery.routing_key == "product.deleted":
            item = catalog.parse_product({**payload, "name": "-"}, "product", errors)
        else:
            item = catalog.parse_product(payload, "product", errors)
        if errors or item is None or not isinstance(tid, int):  # (None only with errors)
            raise ValueError(f"invalid product event: {errors or 'tenant_id'}")
        with base.engine.begin() as conn:
            if not first_delivery(conn, processed, delivery.message_id):
                return
            if delivery.routing_key == "product.deleted":
                catalog.delete(conn, tid, item["sku"], item["version"])
            else:
                catalog.upsert(conn, tid, [item])
    return handle


POLICY = Policy("search", {**REGISTRY_SCOPES, **dlq.SCOPES})


def build(config: ServiceConfig, *, log: bool = True,
          settings: SearchSettings | None = None) -> Service:
    """The search service, its bulk indexer (with Elasticsearch) and its event consumer."""
    settings = settings or service_settings.load(SearchSettings)
    base = foundation(config, log=log)
    index = ProductIndex(settings) if settings.elasticsearch_url else None
    workers: list = []
    if config.rabbitmq_url:
        workers.append(Consumer(config, base.metrics, Subscription(
            "search.products", "inventory.events", ("product.upserted", "product.deleted"),
            product_handler(base))))
    checks = [postgres_check(base.engine),
              broker_check(config, [w.connected for w in workers],
                           "products are loaded over HTTP only"),
              _es_check(index)]
    if index is not None:
        workers.append(Periodic("bulk-indexer", settings.index_interval,
                                lambda: indexer.index_pending(base.engine, index, base.metrics,
                                                              settings.index_batch))
                       .report_to(base.metrics, config.loop_stale_seconds))
        Gauge("meridian_search_index_pending", "Products changed in PostgreSQL and not yet "
              "in Elasticsearch", ["service"], registry=base.metrics.registry) \
            .labels(config.service).set_function(lambda: indexer.pending_count(base.engine))
    app = create_service_app(config.service, base.metrics, checks)
    require_tokens(base, app, POLICY, tenants)
    dlq.register(app, config, base.metrics, workers)
    openapi.install(app, "search", OPERATIONS)
    app.register_blueprint(tenant_registry.blueprint(base.engine, tenants))
    app.register_blueprint(_routes(base, index, settings))
    app.extensions["product_index"] = index
    workers.append(PerProcess(count_api_usage(base, app, tenants)))
    return Service(config.service, app, workers, [base.engine],
                   [base.redis.close] if base.redis else [])


def _es_check(index: ProductIndex | None) -> Check:
    """Degradable: without Elasticsearch, search answers from PostgreSQL full-text."""
    def probe() -> str | None:
        if index is None:
            return "not configured (PostgreSQL full-text search)"
        health = index.client.cluster.health(timeout="2s")
        if health["status"] == "red":
            return "cluster red (search answers from PostgreSQL)"
        return None
    return Check("elasticsearch", probe, critical=False)
