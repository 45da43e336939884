"""Settings of the billing service."""
from __future__ import annotations

from pydantic import Field

from platform_services.common.settings import EnvSettings, OptionalText, Text


class BillingSettings(EnvSettings):
    stripe_api_key: Text = Field("sk_test_meridian_local", alias="STRIPE_API_KEY", description=(
        "Stripe secret key."))
    stripe_api_base: OptionalText = Field(None, alias="STRIPE_API_BASE", description=(
        "Stripe API base URL (unset: api.stripe.com; tests point it at localstripe)."))
    stripe_webhook_secret: Text = Field(
        "whsec_meridian_local", alias="STRIPE_WEBHOOK_SECRET", description=(
            "Signing secret of the webhook endpoint."))
    stripe_timeout: float = Field(10.0, alias="STRIPE_TIMEOUT", description=(
        "Seconds before a Stripe call gives up."))
    webhook_tolerance: int = Field(300, alias="STRIPE_WEBHOOK_TOLERANCE", description=(
        "Oldest accepted webhook timestamp, s (replay protection, Stripe's default)."))
    webhook_max_bytes: int = Field(65536, alias="STRIPE_WEBHOOK_MAX_BYTES", description=(
        "Larger webhook bodies answer 413."))
    usage_flush_seconds: float = Field(60.0, alias="USAGE_FLUSH_SECONDS", description=(
        "Redis usage counters are flushed to PostgreSQL this often."))
    invoice_retry_seconds: float = Field(30.0, alias="INVOICE_RETRY_SECONDS", description=(
        "First back-off of an invoice queued by a Stripe outage (doubles, at most 1 h)."))
    invoice_max_attempts: int = Field(20, alias="INVOICE_MAX_ATTEMPTS", description=(
        "Attempts before a queued invoice is failed."))
    currency: Text = Field("usd", alias="BILLING_CURRENCY", description="Invoice currency.")
