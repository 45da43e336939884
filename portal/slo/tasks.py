"""Celery tasks of the SLO domain: the per-minute SLI collection and the backfill of a new
SLO's history from Prometheus."""
from __future__ import annotations

import logging

from celery import shared_task
from celery.schedules import crontab
from flask import current_app

from portal.db import utcnow
from portal.extensions import db
from portal.integrations.prometheus import PrometheusClient, PrometheusUnavailable
from portal.slo import backfill, samples, specs
from portal.slo import service as slo
from portal.slo.sources import PrometheusSource, ScrapeSource, SliSource

log = logging.getLogger(__name__)
# At second 0 of every minute, not "every 60 s": the scrape source turns two readings into
# a minute sample only when they fall in consecutive minutes, and a 60 s interval drifts
# until two runs share a minute and the next pair is two minutes apart (a false gap). A run
# held up past the next one is dropped rather than run late into another minute.
BEAT_SCHEDULE = {
    "slo-collect-samples": {"task": "portal.slo.tasks.collect_samples",
                            "schedule": crontab(minute="*"), "options": {"expires": 50}},
}


def configured_source() -> SliSource:
    """Prometheus when PROMETHEUS_URL is set, else the portal's own scrape of /metrics."""
    url = current_app.config.get("PROMETHEUS_URL")
    if url:
        client = PrometheusClient(url, timeout=current_app.config.get("PROMETHEUS_TIMEOUT", 5.0))
        return PrometheusSource(client)
    return ScrapeSource(timeout=current_app.config.get("SLO_SCRAPE_TIMEOUT", 5.0))


@shared_task(name="portal.slo.tasks.collect_samples", ignore_result=True)
def collect_samples() -> int:
    """Store the minutes completed since the last run for every SLO; returns minutes stored."""
    try:
        with db.session_scope() as session:
            stored = specs.collect(session=session, source=configured_source(), now=utcnow())
            slo.record_policy_changes(session=session)
            return stored
    except PrometheusUnavailable as exc:
        # The next run fetches the missed minutes again (PrometheusSource backfills a day).
        log.warning("SLI collection skipped: %s", exc)
        return 0


@shared_task(name=backfill.TASK, ignore_result=True, acks_late=True,
             autoretry_for=(PrometheusUnavailable,), max_retries=3, retry_backoff=30)
def backfill_history(slo_id: int) -> int:
    """Read an SLO's whole window from Prometheus into its samples; returns minutes stored.

    Safe to run twice or after a redelivery: each stored minute replaces the same minute.
    Only an unreachable Prometheus is retried; a refused query would fail the same way again.
    """
    source = configured_source()
    if not isinstance(source, PrometheusSource):
        return 0
    with db.session_scope() as session:
        found = specs.get(session=session, slo_id=slo_id)
        if found is None:
            return 0  # deleted before the task ran
        spec = backfill.WindowQueries(id=found.id, window_days=found.window_days,
                                      good_query=found.good_query,
                                      total_query=found.total_query)
    # Read Prometheus outside any transaction: a slow range query holds no connection.
    minutes = backfill.fetch(source=source, slo=spec, now=utcnow())
    with db.session_scope() as session:
        if specs.get(session=session, slo_id=slo_id) is None:
            return 0
        return samples.record(session=session, slo_id=slo_id, samples=minutes)
