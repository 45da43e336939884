"""Rows for SLO tests: a team, a service and an SLO with minute samples."""
from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from portal.catalog import service as catalog
from portal.slo import samples
from portal.slo.models import Slo
from portal.slo.samples import MinuteSample


def make_service(session, *, team_slug: str | None = None, base_url: str | None = None):
    """A fresh team and service."""
    tag = secrets.token_hex(3)
    team = catalog.upsert_team(session=session, slug=team_slug or f"team-{tag}",
                               name=f"Team {tag}", chat_channel=None)
    return catalog.upsert_service(session=session, slug=f"svc-{tag}", team=team,
                                  name=f"Service {tag}", base_url=base_url)


def make_slo(session, service, *, name: str = "availability", objective: str = "99.9",
             window_days: int = 30) -> Slo:
    """A ratio SLO on `service` selecting http_requests_total by its slug."""
    slo = Slo(service_id=service.id, name=name, sli_kind="ratio", objective=objective,
              window_days=window_days, owner="team", description="",
              good_query=f'http_requests_total{{service="{service.slug}",code!~"5.."}}',
              total_query=f'http_requests_total{{service="{service.slug}"}}')
    session.add(slo)
    session.flush()
    return slo


def fill(session, slo, *, end: datetime, minutes: int, good: int, total: int) -> None:
    """`minutes` identical samples ending just before `end`."""
    samples.record(session=session, slo_id=slo.id, samples=[
        MinuteSample(end - timedelta(minutes=i + 1), good, total) for i in range(minutes)])
