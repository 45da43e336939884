"""Demo SLOs from seed 000 (objectives per service) with synthetic SLI samples.

Samples are compact so seeding stays fast: the last 3 days per minute (what every burn-rate
window reads) and the 27 days before only as hourly rollups, as a minute-retention policy
would leave them. Search carries an old Elasticsearch incident that exhausted its budget
(so its production deploys are frozen); Notification is at risk; Billing has a 20-minute
scrape gap that charts show as a gap.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from portal.catalog import service as catalog
from portal.db import utcnow
from portal.slo import samples, specs
from portal.slo import service as slo_service
from portal.slo.models import Sample

REQ = 'http_requests_total{{service="{s}"{extra}}}'
GOOD = 'http_requests_total{{service="{s}",code!~"5.."{extra}}}'
BUCKET = 'http_request_duration_seconds_bucket{{service="{s}",handler="{h}",le="{le}"}}'
COUNT = 'http_request_duration_seconds_count{{service="{s}",handler="{h}"}}'


def _availability(slug: str, objective: str, owner: str) -> dict:
    return dict(name="availability", sli_kind="ratio", objective=objective, owner=owner,
                description=f"{objective}% of requests answer without a 5xx (seed 000).",
                good_query=GOOD.format(s=slug, extra=""), total_query=REQ.format(s=slug, extra=""))


def _latency(slug: str, name: str, handler: str, objective: str, ms: int, owner: str) -> dict:
    return dict(name=name, sli_kind="latency", objective=objective, owner=owner,
                latency_threshold_ms=ms,
                description=f"{objective}% of {handler} requests complete within {ms} ms (seed 000).",
                good_query=BUCKET.format(s=slug, h=handler, le=ms / 1000),
                total_query=COUNT.format(s=slug, h=handler))


def _events(slug: str, name: str, metric: str, label: str, objective: str, owner: str,
            description: str) -> dict:
    return dict(name=name, sli_kind="ratio", objective=objective, owner=owner,
                description=description,
                good_query=f'{metric}{{service="{slug}",{label}}}',
                total_query=f'{metric}{{service="{slug}"}}')


SEED_SLOS: dict[str, list[dict]] = {
    "api-gateway": [_availability("api-gateway", "99.95", "Platform Engineering"),
                    _latency("api-gateway", "added-latency-p99", "proxy", "99", 15,
                             "Platform Engineering")],
    "auth": [_availability("auth", "99.95", "Identity"),
             _latency("auth", "login-latency-p95", "/login", "95", 200, "Identity")],
    "order": [_availability("order", "99.95", "Commerce"),
              _latency("order", "order-creation-p99", "/orders", "99", 500, "Commerce")],
    "inventory": [_availability("inventory", "99.9", "Inventory")],
    "search": [_availability("search", "99.9", "Discovery"),
               _latency("search", "search-latency-p95", "/search", "95", 150, "Discovery")],
    "billing": [_availability("billing", "99.9", "Payments")],
    "fulfillment": [_availability("fulfillment", "99.9", "Logistics")],
    "notification": [_events("notification", "delivery", "notifications_total",
                             'status="delivered"', "99.5", "Messaging",
                             "99.5% of notifications are delivered (seed 000).")],
    "worker": [_events("worker", "jobs-on-time", "jobs_completed_total", 'on_time="true"',
                       "99.9", "Data Services", "99.9% of jobs complete within 2x their "
                       "estimated duration (seed 000; 99.9% target from seed 001).")],
    "report": [_events("report", "reports-on-time", "reports_generated_total",
                       'within_sla="true"', "99.9", "Data Services",
                       "99.9% of reports are generated within 5 minutes (seed 000; 99.9% "
                       "target from seed 001).")],
}

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
    "report": (30, 0.3, []),
}
GAPS = {"billing": (5, 20)}   # hours ago, minutes long
MINUTE_DAYS = 3


def seed(*, session: Session) -> None:
    """SLOs of seed 000 and, for SLOs without samples, synthetic samples up to now."""
    now = samples.floor_minute(utcnow())
    for slug, slo_specs in SEED_SLOS.items():
        service = catalog.get_service(session=session, slug=slug)
        if service is None:
            continue
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
