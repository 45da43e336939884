"""What the billing service's routes take and answer (its OpenAPI operations)."""
from __future__ import annotations

from typing import Literal

from pydantic import Field

from platform_services.billing.metering import MAX_QUANTITY
from platform_services.common.openapi import Operation
from platform_services.common.schemas import Body, Email, Query

# ASCII digits: `\d` would also take other scripts' digits.
PERIOD_PATTERN = r"^[0-9]{4}-(0[1-9]|1[0-2])$"


class SubscriptionBody(Body):
    """Subscribe the tenant to a plan (Stripe customer and subscription)."""
    plan: Literal["starter", "growth", "enterprise"] = Field(
        description="one of starter, growth, enterprise")
    email: Email = Field(description="the billing e-mail address")
    payment_method: str | None = Field(None, pattern=r"^pm_[A-Za-z0-9_]{1,200}$",
                                       description="a Stripe PaymentMethod id (pm_...)")


class UsageReport(Body):
    """Usage of one meter, counted now and flushed to the period's totals."""
    meter: Literal["api_calls", "orders", "reports", "notifications"] = Field(
        description="one of api_calls, notifications, orders, reports")
    quantity: int = Field(1, ge=1, le=MAX_QUANTITY,
                          description=f"a whole number from 1 to {MAX_QUANTITY}")


class InvoiceRequest(Body):
    """Invoice a past or the current period."""
    period: str = Field(pattern=PERIOD_PATTERN, description="YYYY-MM, not future")


class PeriodQuery(Query):
    """A billing period; the current one when absent."""
    period: str | None = Field(None, pattern=PERIOD_PATTERN, description="YYYY-MM")


OPERATIONS = {
    "billing.subscribe": Operation("Subscribe to a plan", body=SubscriptionBody,
                                   errors=(503,)),
    "billing.record_usage": Operation("Record usage (platform only)", body=UsageReport,
                                      ok=(202,)),
    "billing.read_usage": Operation("Usage of a period per meter", query=PeriodQuery),
    "billing.create_invoice": Operation("Invoice a period", body=InvoiceRequest,
                                        ok=(201, 202), errors=(409, 503)),
    "billing.list_invoices": Operation("The tenant's last 36 invoices"),
    "stripe_webhooks.receive": Operation("Stripe events, signed (Stripe-Signature)",
                                         public=True, errors=(400, 413)),
}
