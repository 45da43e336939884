"""Security events: failed sign-ins, permission denials and refused hostile input.

Each one is counted in `meridian_security_events_total{kind}` (the SecurityEventsSpike
alert of infra/prometheus/security_rules.yml watches its rate) and written to the audit
log as `security.<kind>`. Most of these come from people who are not signed in, so the
audit writes are bounded, the counter never is: at most PER_SOURCE entries a minute per
kind and source (the signed-in user, else the client IP), and at most ANONYMOUS_TOTAL a
minute per kind for all anonymous sources together, so a flood from many addresses adds
at most that many rows a minute; the entry that reaches a limit says so. Limits are kept
in the rate limiter's storage (Redis when configured), so they hold across workers; if
that storage fails, events are counted only (a logged warning says so).
"""
from __future__ import annotations

import logging

from flask import Flask, current_app, g, request
from flask_login import current_user
from limits import parse
from limits.storage import MemoryStorage
from limits.strategies import FixedWindowRateLimiter
from prometheus_client import Counter

from portal.auth import audit
from portal.extensions import db, limiter

log = logging.getLogger(__name__)
OUTCOMES = {"login_failed": "failure", "forbidden": "denied", "hostile_input": "denied",
            "token_refused": "failure"}
PER_SOURCE = parse("10/minute")
ANONYMOUS_TOTAL = parse("60/minute")
LIMITED_NOTE = "further events of this kind and source this minute are counted, not logged"
# Where the limits are kept when the rate limiter is switched off (RATELIMIT_ENABLED=false):
# per process, still bounded.
_LOCAL_LIMITS = FixedWindowRateLimiter(MemoryStorage())


def init_app(app: Flask) -> None:
    """Register the counter (every kind exported at 0) and record every 403 answered."""
    counter = Counter("meridian_security_events", "Refused sign-ins, permissions and input",
                      ["kind"], registry=app.extensions["portal_metrics"].registry)
    for kind in OUTCOMES:
        counter.labels(kind)
    app.extensions["security_events"] = counter

    @app.after_request
    def _record_forbidden(response):
        if response.status_code == 403 and not g.get("security_event_recorded"):
            record("forbidden", details={"method": request.method,
                                         "path": request.path[:200]})
        return response


def _room_for_entry(kind: str, source: str, anonymous: bool) -> tuple[bool, bool]:
    """(write an entry, this entry reaches a limit) for one more event from `source`."""
    strategy = limiter.limiter if limiter.enabled else _LOCAL_LIMITS
    try:
        allowed = strategy.hit(PER_SOURCE, "security", kind, source)
        if allowed and anonymous:
            allowed = strategy.hit(ANONYMOUS_TOTAL, "security", kind, "anonymous")
        last = allowed and not strategy.test(PER_SOURCE, "security", kind, source)
    except Exception:  # the limiter's storage is down: count only, never write unbounded
        log.warning("rate limiter storage unavailable: security event %s not logged", kind,
                    exc_info=True)
        return False, False
    return allowed, last


def record(kind: str, *, actor_email: str | None = None, details: dict | None = None) -> None:
    """Count a security event of `kind` and, within the limits, write it to the audit log
    in a transaction of its own (the request's may be rolled back or never committed)."""
    current_app.extensions["security_events"].labels(kind).inc()
    g.security_event_recorded = True
    user = current_user._get_current_object() if current_user.is_authenticated else None
    source = f"user:{user.id}" if user else f"ip:{request.remote_addr}"
    write, last = _room_for_entry(kind, source, anonymous=user is None)
    if not write:
        return
    details = dict(details or {})
    if last:
        details["limited"] = LIMITED_NOTE
    with db.session_scope() as session:
        audit.record(session=session, action=f"security.{kind}", actor=user,
                     actor_email=actor_email, outcome=OUTCOMES[kind], details=details,
                     origin=audit.Origin(ip=request.remote_addr,
                                         request_id=g.get("request_id")))
