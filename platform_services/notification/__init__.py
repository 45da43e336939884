"""Notification service: sandboxed templates, SMTP with relay failover, SMS with provider
failover, webhooks, per-tenant limits."""
