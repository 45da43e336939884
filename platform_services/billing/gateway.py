"""The one client of the Stripe API (stripe library, configurable API base).

Errors are sorted into the two kinds the billing flow needs: StripeUnavailable (network,
timeouts, rate limits, 5xx: the invoice waits in the retry queue) and StripeRejected (a
request Stripe refuses for good: the invoice fails with Stripe's message).
"""
from __future__ import annotations

from typing import Any

import stripe

from platform_services.billing.models import PLANS
from platform_services.billing.settings import BillingSettings


class StripeUnavailable(Exception):
    """Stripe could not be reached or is failing; retry later."""


class StripeRejected(Exception):
    """Stripe refused the request; retrying will not help."""


def _call(fn, *args, **kwargs):
    try:
        return fn(*args, **kwargs)
    except (stripe.APIConnectionError, stripe.RateLimitError) as exc:
        raise StripeUnavailable(f"Stripe unreachable: {exc.user_message or exc}") from exc
    except stripe.APIError as exc:
        raise StripeUnavailable(f"Stripe error {exc.http_status}: {exc.user_message}") from exc
    except stripe.StripeError as exc:
        raise StripeRejected(f"Stripe refused: {exc.user_message or exc}") from exc


class StripeGateway:
    """Customers, plan subscriptions and invoices for Meridian tenants."""

    def __init__(self, settings: BillingSettings) -> None:
        self.settings = settings
        self.client = stripe.StripeClient(
            settings.stripe_api_key, max_network_retries=1,
            base_addresses={"api": settings.stripe_api_base} if settings.stripe_api_base
            else None,
            http_client=stripe.RequestsClient(timeout=settings.stripe_timeout))

    def _plan(self, plan: str) -> str:
        plan_id = f"meridian-{plan}"
        try:
            return _call(self.client.v1.plans.retrieve, plan_id).id
        except StripeRejected:
            return _call(self.client.v1.plans.create, params={
                "id": plan_id, "amount": PLANS[plan], "currency": self.settings.currency,
                "interval": "month", "product": {"name": f"Meridian {plan}"}}).id

    def subscribe(self, *, tenant_id: int, email: str, plan: str,
                  payment_method: str | None) -> dict[str, str]:
        """A customer (with its default payment method) subscribed to `plan`."""
        customer = _call(self.client.v1.customers.create, params={
            "email": email, "metadata": {"meridian_tenant_id": str(tenant_id)}},
            options={"idempotency_key": f"meridian-customer-{tenant_id}"})
        if payment_method:
            _call(self.client.v1.payment_methods.attach, payment_method,
                  params={"customer": customer.id})
            _call(self.client.v1.customers.update, customer.id, params={
                "invoice_settings": {"default_payment_method": payment_method}})
        sub = _call(self.client.v1.subscriptions.create, params={
            "customer": customer.id, "items": [{"plan": self._plan(plan)}]})
        return {"customer": customer.id, "subscription": sub.id, "status": sub.status}

    def invoice(self, *, invoice_id: str, customer: str, subscription: str | None,
                lines: list[dict[str, Any]], period: str) -> str:
        """Create the usage lines and the invoice; returns Stripe's invoice id.

        Idempotency keys derived from our invoice id make a retry after a timeout reuse
        what Stripe already created instead of billing twice."""
        for n, line in enumerate(lines):
            if line["kind"] != "usage" or not line["amount_cents"]:
                continue
            _call(self.client.v1.invoice_items.create, params={
                "customer": customer, "amount": line["amount_cents"],
                "currency": self.settings.currency, "description": line["description"]},
                options={"idempotency_key": f"meridian-{invoice_id}-line-{n}"})
        params = {"customer": customer, "description": f"Meridian usage {period}",
                  "metadata": {"meridian_invoice_id": invoice_id}}
        if subscription:
            params["subscription"] = subscription
        return _call(self.client.v1.invoices.create, params=params,
                     options={"idempotency_key": f"meridian-{invoice_id}"}).id
