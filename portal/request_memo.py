"""Memos that live exactly as long as the current request.

Several panels of one page ask the same question (the open incidents, a service's Vault
secrets, the viewer's time zone); each answer is worth reading once per request and never
longer. It is kept in the request's own WSGI environ: `flask.g` belongs to the application
context, which may outlive a request (tests, the CLI) and would then serve stale answers.
"""
from __future__ import annotations

from flask import has_request_context, request


def memo(name: str) -> dict:
    """The current request's memo called `name` (a new, unkept dict outside a request)."""
    if not has_request_context():
        return {}
    return request.environ.setdefault(f"portal.memo.{name}", {})
