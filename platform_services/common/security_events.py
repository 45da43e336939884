"""The `meridian_security_events_total{service, kind}` counter of a service.

Refused tokens, scopes and tenants (jwt_auth), and refused outbound targets (SSRF
attempts) are counted here so that a spike of them alerts (infra/prometheus/
security_rules.yml, SecurityEventsSpike) instead of hiding among ordinary 4xx answers.
`kind` comes from a fixed set, so hostile input cannot grow the label space.
"""
from __future__ import annotations

import weakref

from prometheus_client import Counter

from platform_services.common.observability import Metrics

KINDS = frozenset({"token_refused", "forbidden", "tenant_refused", "outbound_refused"})
# One counter per Metrics registry (tests run many services in one process).
_counters: weakref.WeakKeyDictionary[Metrics, Counter] = weakref.WeakKeyDictionary()


def install(metrics: Metrics) -> Counter:
    """The counter in `metrics`' registry, created (every kind at 0) on the first call."""
    counter = _counters.get(metrics)
    if counter is None:
        counter = _counters[metrics] = Counter(
            "meridian_security_events", "Refused credentials, permissions, tenants and "
            "outbound targets", ["service", "kind"], registry=metrics.registry)
        for kind in KINDS:  # exported at 0 from the start, so rate() sees the first one
            counter.labels(metrics.service, kind)
    return counter


def record(metrics: Metrics, kind: str) -> None:
    """Count one security event of `kind` (one of KINDS) for this service."""
    if kind not in KINDS:
        raise ValueError(f"unknown security event kind {kind!r}")
    install(metrics).labels(metrics.service, kind).inc()
