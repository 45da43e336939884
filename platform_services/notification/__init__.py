"""Notification service: sandboxed templates, SMTP with relay failover, webhooks, per-tenant limits."""
