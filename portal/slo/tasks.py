"""Celery tasks of the SLO domain: the per-minute SLI collection."""
from __future__ import annotations

import logging

from celery import shared_task
from celery.schedules import crontab
from flask import current_app

from portal.db import utcnow
from portal.extensions import db
from portal.integrations.prometheus import PrometheusClient, PrometheusUnavailable
from portal.slo import service as slo, specs
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
