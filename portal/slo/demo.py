"""Demo SLOs (objectives per service) with synthetic SLI samples.

The specs' PromQL reads the metrics the platform services really expose
(platform_services/README.md, "Metrics"): availability is the non-5xx share of
`meridian_requests_total`, a latency SLO is the histogram bucket at its threshold over the
count (every threshold is a bucket bound of platform_services/common/observability.py), and
notification and worker SLOs count their business events. The API gateway is Kong, which
does not run here: its SLOs read the metrics of Kong's Prometheus plugin (3.x).

Samples are compact so seeding stays fast: the last 3 days per minute (what every burn-rate
window reads) and the 27 days before only as hourly rollups, as a minute-retention policy
would leave them. Search carries an old Elasticsearch incident that exhausted its budget
(so its production deploys are frozen); Notification is at risk; Billing has a 20-minute
scrape gap that charts show as a gap.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select, text
from sqlalchemy.orm import Session

from portal.catalog import service as catalog
from portal.db import utcnow
from portal.slo import samples, specs
from portal.slo import service as slo_service
from portal.slo.models import Sample, Slo

# The platform services' metrics (a contract: platform_services/README.md).
REQUESTS = "meridian_requests_total"
LATENCY = "meridian_request_duration_seconds"
EVENTS = "meridian_business_events_total"
# Kong's Prometheus plugin (Kong 3.x): kong_http_requests_total{service,route,code,source,
# consumer} counts every proxied request; kong_kong_latency_ms{service,route,le} is the
# latency Kong and its plugins add, with bucket bounds 1, 2, 5, 7, 10, 15, 20, 30 ... ms.
# Their `service` label is a Kong service name, not a catalog slug, so no matcher on it.
KONG_REQUESTS = "kong_http_requests_total"
KONG_ADDED_LATENCY = "kong_kong_latency_ms"


def _sel(metric: str, **labels: str) -> str:
    """A counter selector; a value starting with `!~` or `=~` becomes a regex matcher."""
    parts = []
    for label, value in labels.items():
        op = value[:2] if value[:2] in ("!~", "=~") else "="
        parts.append(f'{label}{op}"{value[2:] if op != "=" else value}"')
    return f"{metric}{{{','.join(parts)}}}" if parts else metric


def _availability(slug: str, objective: str, owner: str) -> dict:
    return dict(name="availability", sli_kind="ratio", objective=objective, owner=owner,
                description=f"{objective}% of requests answer without a 5xx "
                            f"(meridian_requests_total).",
                good_query=_sel(REQUESTS, service=slug, code="!~5.."),
                total_query=_sel(REQUESTS, service=slug))


def _latency(slug: str, name: str, route: str, objective: str, ms: int, owner: str) -> dict:
    # The histogram has no method label: a route serving GET and POST shares one histogram.
    return dict(name=name, sli_kind="latency", objective=objective, owner=owner,
                latency_threshold_ms=ms,
                description=f"{objective}% of {route} requests complete within {ms} ms "
                            f"(the le=\"{ms / 1000:g}\" bucket over the count).",
                good_query=_sel(f"{LATENCY}_bucket", service=slug, route=route,
                                le=f"{ms / 1000:g}"),
                total_query=_sel(f"{LATENCY}_count", service=slug, route=route))


def _events(slug: str, name: str, event: str, good: str, counted: str, objective: str,
            owner: str, description: str) -> dict:
    return dict(name=name, sli_kind="ratio", objective=objective, owner=owner,
                description=description,
                good_query=_sel(EVENTS, service=slug, event=event, outcome=good),
                total_query=_sel(EVENTS, service=slug, event=event, outcome=f"=~{counted}"))


def _gateway() -> list[dict]:
    owner = "Platform Engineering"
    return [dict(name="availability", sli_kind="ratio", objective="99.95", owner=owner,
                 description="99.95% of requests through Kong answer without a 5xx ("
                             "Kong Prometheus plugin, kong_http_requests_total).",
                 good_query=_sel(KONG_REQUESTS, code="!~5.."), total_query=KONG_REQUESTS),
            dict(name="added-latency-p99", sli_kind="latency", objective="99", owner=owner,
                 latency_threshold_ms=15,
                 description="99% of requests get at most 15 ms added by Kong and its plugins "
                             "(kong_kong_latency_ms, le=\"15\" bucket in ms).",
                 good_query=_sel(f"{KONG_ADDED_LATENCY}_bucket", le="15"),
                 total_query=f"{KONG_ADDED_LATENCY}_count")]


ORDERS = "/v1/tenants/<tenant>/orders"
SEED_SLOS: dict[str, list[dict]] = {
    "api-gateway": _gateway(),
    "auth": [_availability("auth", "99.95", "Identity"),
             _latency("auth", "login-latency-p95", "/v1/tenants/<tenant>/login", "95", 200,
                      "Identity")],
    "order": [_availability("order", "99.95", "Commerce"),
              _latency("order", "order-creation-p99", ORDERS, "99", 500, "Commerce")],
    "inventory": [_availability("inventory", "99.9", "Inventory")],
    "search": [_availability("search", "99.9", "Discovery"),
               _latency("search", "search-latency-p95", "/v1/tenants/<tenant>/search", "95",
                        150, "Discovery")],
    "billing": [_availability("billing", "99.9", "Payments")],
    "fulfillment": [_availability("fulfillment", "99.9", "Logistics")],
    # Duplicates (deduplicated on purpose) and rate-limited sends (the tenant's quota) are
    # not delivery attempts; a template error or a failed relay/webhook is a failed one.
    "notification": [_events("notification", "delivery", "notification", "sent",
                             "sent|delivery_failed|template_error", "99.5", "Messaging",
                             "99.5% of notifications are delivered: sent over "
                             "sent, delivery_failed and template_error events.")],
    # Jobs carry no estimated duration, so "within 2x the estimate" cannot be measured; what
    # the worker counts is whether a job finished (a skipped run is a lock-guarded twin).
    "worker": [_events("worker", "jobs-succeeded", "job", "succeeded", "succeeded|failed",
                       "99.9", "Data Services",
                       "99.9% of jobs succeed, none dropped: "
                       "succeeded over succeeded and failed job events.")],
}
# Names of earlier seeds whose SLI the services cannot measure; re-seeding removes them.
RETIRED = {"worker": ("jobs-on-time",)}

# service: (requests per minute, share of the error budget burnt at baseline,
#           incidents as (hours ago, minutes long, error rate)); Order is mid-incident.
PROFILES: dict[str, tuple[int, float, list[tuple[float, int, float]]]] = {
    "api-gateway": (9000, 0.3, [(200, 12, 0.02)]),
    "auth": (3000, 0.35, [(120, 25, 0.006)]),
    "order": (1200, 0.3, [(30, 20, 0.01), (0.75, 60, 0.01)]),
    "inventory": (1500, 0.4, [(300, 45, 0.01)]),
    "search": (2400, 0.5, [(100, 240, 0.2), (2, 40, 0.004)]),
    "billing": (300, 0.3, []),
    "fulfillment": (400, 0.35, [(400, 60, 0.02)]),
    "notification": (600, 0.55, [(60, 90, 0.45)]),
    "worker": (120, 0.3, []),
}
GAPS = {"billing": (5, 20)}   # hours ago, minutes long
MINUTE_DAYS = 3


def seed(*, session: Session) -> None:
    """Meridian's SLOs and, for SLOs without samples, synthetic samples up to now."""
    now = samples.floor_minute(utcnow())
    for slug, slo_specs in SEED_SLOS.items():
        service = catalog.get_service(session=session, slug=slug)
        if service is None:
            continue
        if slug in RETIRED:
            session.execute(delete(Slo).where(Slo.service_id == service.id,
                                              Slo.name.in_(RETIRED[slug])))
        for raw in slo_specs:
            slo = specs.upsert(session=session, service=service, spec=specs.clean(raw))
            if session.scalar(select(Sample.slo_id).where(Sample.slo_id == slo.id).limit(1)):
                continue
            _synthesize(session, slo.id, slug, raw, now)
    slo_service.record_policy_changes(session=session, now=now)


def _synthesize(session: Session, slo_id: int, slug: str, raw: dict, now: datetime) -> None:
    rpm, burn, incidents = PROFILES[slug]
    allowed = (100 - float(raw["objective"])) / 100
    params = {"slo": slo_id, "rpm": rpm, "base": allowed * burn,
              "inc_s": [now - timedelta(hours=h) for h, _, _ in incidents],
              "inc_e": [now - timedelta(hours=h) + timedelta(minutes=m) for h, m, _ in incidents],
              "inc_r": [r for _, _, r in incidents]}
    minute_start = now - timedelta(days=MINUTE_DAYS)
    gap = GAPS.get(slug)
    gap_s = now - timedelta(hours=gap[0]) if gap else now
    params.update(ms=minute_start, me=now - samples.MINUTE, gs=gap_s,
                  ge=gap_s + timedelta(minutes=gap[1]) if gap else now,
                  hs=samples.floor_hour(now - timedelta(days=30)),
                  he=samples.floor_hour(minute_start) - samples.HOUR)
    session.execute(text(_GENERATE.format(table="slo_samples", col="minute", step="1 minute",
                                          mult=1, start=":ms", end=":me",
                                          skip="AND NOT (m >= :gs AND m < :ge)")), params)
    session.execute(text(_GENERATE.format(table="slo_sample_hours", col="hour", step="1 hour",
                                          mult=60, start=":hs", end=":he", skip="")), params)
    session.execute(text(
        "INSERT INTO slo_sample_hours (slo_id, hour, good, total) "
        "SELECT slo_id, date_trunc('hour', minute), sum(good), sum(total) FROM slo_samples "
        "WHERE slo_id = :slo GROUP BY 1, 2"), params)
    session.execute(text(
        "INSERT INTO slo_sample_days (slo_id, day, good, total) "
        "SELECT slo_id, date_trunc('day', hour, 'UTC'), sum(good), sum(total) "
        "FROM slo_sample_hours WHERE slo_id = :slo GROUP BY 1, 2"), params)
    session.flush()


# Diurnal traffic (+-35%), noisy baseline errors, and incident windows on top; bad counts
# are dithered so low-traffic services still see their fractional error rates.
_GENERATE = """
INSERT INTO {table} (slo_id, {col}, good, total)
SELECT :slo, m, t - LEAST(t, floor(t * (:base * (0.4 + 1.2 * noise) + inc) + dither)::bigint), t
FROM (
  SELECT m, (round(:rpm * (1 + 0.35 * sin(2 * pi() * extract(epoch FROM m) / 86400))) * {mult}
             )::bigint AS t,
         abs(sin(extract(epoch FROM m) * 12.9898)) AS noise,
         -- golden-ratio sequence: evenly spread in [0, 1), so rounding stays unbiased
         (extract(epoch FROM m) / 60 * 0.6180339887) % 1 AS dither,
         COALESCE((SELECT max(r) FROM unnest(CAST(:inc_s AS timestamptz[]),
                   CAST(:inc_e AS timestamptz[]), CAST(:inc_r AS float8[])) AS i(s, e, r)
                   WHERE m >= i.s AND m < i.e), 0) AS inc
  FROM generate_series(CAST({start} AS timestamptz), CAST({end} AS timestamptz),
                       interval '{step}') AS m
  WHERE true {skip}
) AS x
"""
