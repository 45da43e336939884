"""Invoices: computed from the plan and the metered usage, issued through Stripe, and
queued for retry with exponential back-off while Stripe is unreachable, so a Stripe API
outage does not block payment processing."""
from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.engine import Connection, Engine

from platform_services.billing.gateway import StripeGateway, StripeRejected, StripeUnavailable
from platform_services.billing.models import PLANS, PRICES, invoices, subscriptions, usage
from platform_services.billing.settings import BillingSettings
from platform_services.common.app import ApiError
from platform_services.common.observability import Metrics

log = logging.getLogger(__name__)
MAX_BACKOFF = 3600.0


def usage_amount(meter: str, quantity: int) -> int:
    """Cents for `quantity` units of `meter`, rounded up (prices are in 1/100 cent)."""
    return -(-quantity * PRICES[meter] // 100)


def compute_lines(plan: str, counts: dict[str, int], period: str) -> list[dict[str, Any]]:
    """The plan fee and one line per meter used."""
    lines = [{"kind": "plan", "description": f"{plan} plan {period}",
              "amount_cents": PLANS[plan]}]
    for meter in sorted(counts):
        lines.append({"kind": "usage", "meter": meter, "quantity": counts[meter],
                      "description": f"{meter} x {counts[meter]} ({period})",
                      "amount_cents": usage_amount(meter, counts[meter])})
    return lines


def usage_counts(conn: Connection, tenant_id: int, period: str) -> dict[str, int]:
    rows = conn.execute(select(usage.c.meter, usage.c.quantity).where(
        usage.c.tenant_id == tenant_id, usage.c.period == period))
    return {row.meter: int(row.quantity) for row in rows}


def open_invoice(conn: Connection, *, tenant_id: int, period: str, currency: str) -> str:
    """Insert the invoice of `period` as queued; 409 when it exists, 422 without a plan."""
    plan = conn.scalar(select(subscriptions.c.plan).where(
        subscriptions.c.tenant_id == tenant_id, subscriptions.c.status == "active"))
    if plan is None:
        raise ApiError(422, "no_subscription", "the tenant has no active subscription")
    lines = compute_lines(plan, usage_counts(conn, tenant_id, period), period)
    invoice_id = conn.scalar(insert(invoices).values(
        tenant_id=tenant_id, period=period, currency=currency, lines=lines, status="queued",
        amount_cents=sum(line["amount_cents"] for line in lines),
        next_attempt_at=datetime.now(UTC))
        .on_conflict_do_nothing(constraint="uq_invoices_tenant_period")
        .returning(invoices.c.id))
    if invoice_id is None:
        raise ApiError(409, "conflict", f"the invoice of {period} exists already")
    return invoice_id


def issue(engine: Engine, gateway: StripeGateway, settings: BillingSettings,
          metrics: Metrics, invoice_id: str) -> str:
    """Send a queued invoice to Stripe; returns its status afterwards."""
    with engine.begin() as conn:
        row = conn.execute(select(invoices, subscriptions.c.stripe_customer_id,
                                  subscriptions.c.stripe_subscription_id)
                           .join(subscriptions, subscriptions.c.tenant_id == invoices.c.tenant_id)
                           .where(invoices.c.id == invoice_id)
                           .with_for_update(of=invoices, skip_locked=True)).first()
        if row is None or row.status != "queued":
            return row.status if row else "missing"
        changes = _attempt(gateway, settings, row)
        conn.execute(update(invoices).where(invoices.c.id == invoice_id)
                     .values(**changes, updated_at=datetime.now(UTC)))
    metrics.event("invoice", changes["status"])
    return changes["status"]


def _attempt(gateway: StripeGateway, settings: BillingSettings, row) -> dict[str, Any]:
    attempts = row.attempts + 1
    try:
        stripe_id = gateway.invoice(invoice_id=str(row.id), customer=row.stripe_customer_id,
                                    subscription=row.stripe_subscription_id,
                                    lines=row.lines, period=row.period)
    except StripeUnavailable as exc:
        if attempts >= settings.invoice_max_attempts:
            log.error("invoice %s failed after %d attempts: %s", row.id, attempts, exc)
            return {"status": "failed", "attempts": attempts, "last_error": str(exc)}
        delay = min(settings.invoice_retry_seconds * 2 ** (attempts - 1), MAX_BACKOFF)
        log.warning("invoice %s queued for retry in %.0f s: %s", row.id, delay, exc)
        return {"status": "queued", "attempts": attempts, "last_error": str(exc),
                "next_attempt_at": datetime.now(UTC) + timedelta(seconds=delay)}
    except StripeRejected as exc:
        log.error("invoice %s refused by Stripe: %s", row.id, exc)
        return {"status": "failed", "attempts": attempts, "last_error": str(exc)}
    return {"status": "issued", "attempts": attempts, "last_error": None,
            "stripe_invoice_id": stripe_id, "next_attempt_at": None}


def retry_due(engine: Engine, gateway: StripeGateway, settings: BillingSettings,
              metrics: Metrics, limit: int = 50) -> int:
    """Retry queued invoices whose back-off has passed; returns how many were attempted."""
    with engine.connect() as conn:
        due = conn.scalars(select(invoices.c.id).where(
            invoices.c.status == "queued",
            invoices.c.next_attempt_at <= datetime.now(UTC))
            .order_by(invoices.c.next_attempt_at).limit(limit)).all()
    for invoice_id in due:
        issue(engine, gateway, settings, metrics, invoice_id)
    return len(due)


def to_json(row) -> dict[str, Any]:
    return {"id": str(row.id), "period": row.period, "amount_cents": row.amount_cents,
            "currency": row.currency, "status": row.status, "lines": row.lines,
            "stripe_invoice_id": row.stripe_invoice_id, "attempts": row.attempts,
            "last_error": row.last_error}
