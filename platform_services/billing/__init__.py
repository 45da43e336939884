"""Billing service: subscriptions, usage metering, invoices through Stripe, Stripe webhooks."""
