"""The billing service: subscriptions, usage metering, invoices and Stripe webhooks."""
from __future__ import annotations

from flask import Blueprint, jsonify
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from platform_services.billing import invoices as invoicing
from platform_services.billing import webhooks
from platform_services.billing.gateway import StripeGateway, StripeRejected, StripeUnavailable
from platform_services.billing.metering import UsageMeter, current_period
from platform_services.billing.models import invoices, subscriptions, tenants
from platform_services.billing.schemas import (
    OPERATIONS,
    InvoiceRequest,
    PeriodQuery,
    SubscriptionBody,
    UsageReport,
)
from platform_services.billing.settings import BillingSettings
from platform_services.common import openapi, secrets_check
from platform_services.common import settings as service_settings
from platform_services.common import tenants as tenant_registry
from platform_services.common.app import ApiError, create_service_app, json_body
from platform_services.common.base import (
    Foundation,
    count_api_usage,
    foundation,
    require_tokens,
)
from platform_services.common.config import ServiceConfig
from platform_services.common.jwt_auth import REGISTRY_SCOPES, Policy
from platform_services.common.periodic import Periodic
from platform_services.common.resources import postgres_check, redis_check
from platform_services.common.runner import PerProcess, Service
from platform_services.common.schemas import parse, parse_query


def _subscribe(base: Foundation, gateway: StripeGateway, tid: int,
               req: SubscriptionBody) -> dict:
    plan, email, pm = req.plan, req.email, req.payment_method
    try:
        stripe_ids = gateway.subscribe(tenant_id=tid, email=email, plan=plan,
                                       payment_method=pm)
    except StripeUnavailable as exc:
        raise ApiError(503, "stripe_unavailable", str(exc)) from exc
    except StripeRejected as exc:
        raise ApiError(422, "stripe_rejected", str(exc)) from exc
    values = {"plan": plan, "status": "active", "stripe_customer_id": stripe_ids["customer"],
              "stripe_subscription_id": stripe_ids["subscription"]}
    with base.engine.begin() as conn:
        stmt = insert(subscriptions).values(tenant_id=tid, **values)
        conn.execute(stmt.on_conflict_do_update(index_elements=[subscriptions.c.tenant_id],
                                                set_=values))
    return {"tenant_id": tid, **values}


def _routes(base: Foundation, gateway: StripeGateway, meter: UsageMeter,
            settings: BillingSettings) -> Blueprint:
    bp = Blueprint("billing", __name__)
    engine, metrics = base.engine, base.metrics

    def tenant_id(ref: str) -> int:
        with engine.connect() as conn:
            return tenant_registry.resolve(conn, tenants, ref)

    def period_arg() -> str:
        return parse_query(PeriodQuery, "invalid period").period or current_period()

    @bp.put("/v1/tenants/<tenant>/subscription")
    def subscribe(tenant: str):
        req = parse(SubscriptionBody, json_body(), "invalid subscription")
        return jsonify(_subscribe(base, gateway, tenant_id(tenant), req))

    @bp.post("/v1/tenants/<tenant>/usage")
    def record_usage(tenant: str):
        report = parse(UsageReport, json_body(), "invalid usage report")
        meter_name, quantity = report.meter, report.quantity
        tid = tenant_id(tenant)
        where = meter.record(tid, meter_name, quantity)
        metrics.event("usage_record", where)
        return jsonify({"meter": meter_name, "quantity": quantity, "stored_in": where}), 202

    @bp.get("/v1/tenants/<tenant>/usage")
    def read_usage(tenant: str):
        tid, period = tenant_id(tenant), period_arg()
        with engine.connect() as conn:
            flushed = invoicing.usage_counts(conn, tid, period)
        pending = meter.pending(tid, period)
        meters = sorted(set(flushed) | set(pending))
        return jsonify({"period": period, "usage": [
            {"meter": m, "flushed": flushed.get(m, 0), "pending": pending.get(m, 0),
             "total": flushed.get(m, 0) + pending.get(m, 0)} for m in meters]})

    @bp.post("/v1/tenants/<tenant>/invoices")
    def create_invoice(tenant: str):
        period = parse(InvoiceRequest, json_body(), "invalid period").period
        tid = tenant_id(tenant)
        if period > current_period():
            raise ApiError(422, "invalid", "invalid period", {"period": "YYYY-MM, not future"})
        meter.flush()  # the invoice must count everything metered so far
        with engine.begin() as conn:
            invoice_id = invoicing.open_invoice(conn, tenant_id=tid, period=period,
                                                currency=settings.currency)
        invoicing.issue(engine, gateway, settings, metrics, invoice_id)
        with engine.connect() as conn:
            row = conn.execute(select(invoices).where(invoices.c.id == invoice_id)).one()
        return jsonify(invoicing.to_json(row)), 201 if row.status != "queued" else 202

    @bp.get("/v1/tenants/<tenant>/invoices")
    def list_invoices(tenant: str):
        tid = tenant_id(tenant)
        with engine.connect() as conn:
            rows = conn.execute(select(invoices).where(invoices.c.tenant_id == tid)
                                .order_by(invoices.c.period.desc()).limit(36))
            return jsonify({"invoices": [invoicing.to_json(r) for r in rows]})

    return bp


# Usage is metered by the platform (services, the gateway), never reported by a tenant;
# Stripe's webhook is authenticated by its signature.
POLICY = Policy("billing", {**REGISTRY_SCOPES, "billing.record_usage": "billing:admin"},
                frozenset({"stripe_webhooks.receive"}))


def build(config: ServiceConfig, *, log: bool = True,
          settings: BillingSettings | None = None) -> Service:
    """The billing service with its usage flusher and invoice retrier."""
    settings = settings or service_settings.load(BillingSettings)
    secrets_check.require_safe(config, settings)
    base = foundation(config, log=log)
    gateway = StripeGateway(settings)
    meter = UsageMeter(base.redis, base.engine, config.redis_prefix, base.metrics)
    workers = [Periodic("usage-flush", settings.usage_flush_seconds, meter.flush,
                        final_run=True),
               Periodic("invoice-retry", min(settings.invoice_retry_seconds, 30.0),
                        lambda: invoicing.retry_due(base.engine, gateway, settings,
                                                    base.metrics))]
    for loop in workers:
        loop.report_to(base.metrics, config.loop_stale_seconds)
    checks = [postgres_check(base.engine),
              redis_check(base.redis, "usage is counted in PostgreSQL directly")]
    app = create_service_app(config.service, base.metrics, checks)
    require_tokens(base, app, POLICY, tenants)
    openapi.install(app, "billing", OPERATIONS, POLICY.public)
    app.register_blueprint(tenant_registry.blueprint(base.engine, tenants))
    app.register_blueprint(_routes(base, gateway, meter, settings))
    app.register_blueprint(webhooks.blueprint(base.engine, settings, base.metrics))
    app.extensions["usage_meter"] = meter
    return Service(config.service, app,
                   [*workers, PerProcess(count_api_usage(base, app, tenants))], [base.engine],
                   [base.redis.close] if base.redis else [])
