"""Settings of the billing service."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class BillingSettings:
    stripe_api_key: str = field(default="sk_test_meridian_local", metadata={
        "env": "STRIPE_API_KEY", "help": "Stripe secret key."})
    stripe_api_base: str | None = field(default=None, metadata={
        "env": "STRIPE_API_BASE", "help": "Stripe API base URL (unset: api.stripe.com; "
                                          "tests point it at localstripe)."})
    stripe_webhook_secret: str = field(default="whsec_meridian_local", metadata={
        "env": "STRIPE_WEBHOOK_SECRET", "help": "Signing secret of the webhook endpoint."})
    stripe_timeout: float = field(default=10.0, metadata={
        "env": "STRIPE_TIMEOUT", "help": "Seconds before a Stripe call gives up."})
    webhook_tolerance: int = field(default=300, metadata={
        "env": "STRIPE_WEBHOOK_TOLERANCE", "help": "Oldest accepted webhook timestamp, s "
                                                   "(replay protection, Stripe's default)."})
    webhook_max_bytes: int = field(default=65536, metadata={
        "env": "STRIPE_WEBHOOK_MAX_BYTES", "help": "Larger webhook bodies answer 413."})
    usage_flush_seconds: float = field(default=60.0, metadata={
        "env": "USAGE_FLUSH_SECONDS", "help": "Redis usage counters are flushed to "
                                              "PostgreSQL this often."})
    invoice_retry_seconds: float = field(default=30.0, metadata={
        "env": "INVOICE_RETRY_SECONDS", "help": "First back-off of an invoice queued by a "
                                                "Stripe outage (doubles, at most 1 h)."})
    invoice_max_attempts: int = field(default=20, metadata={
        "env": "INVOICE_MAX_ATTEMPTS", "help": "Attempts before a queued invoice is failed."})
    currency: str = field(default="usd", metadata={"env": "BILLING_CURRENCY",
                                                   "help": "Invoice currency."})
