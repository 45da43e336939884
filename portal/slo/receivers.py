"""The SLO domain answers the readiness scorecard: which SLOs a catalog entry has."""
from __future__ import annotations

from sqlalchemy import select

from portal import events
from portal.slo.models import Slo


@events.readiness_facts.connect
def slo_facts(sender, *, session, service, **_) -> dict:
    """The names of the entry's SLOs defined in the SLO area."""
    names = session.scalars(select(Slo.name).where(Slo.service_id == service.id)
                            .order_by(Slo.name))
    return {"slos": list(names)}
