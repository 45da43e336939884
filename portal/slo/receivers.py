"""The SLO domain answers the readiness scorecard: which SLOs a catalog entry has."""
from __future__ import annotations

from sqlalchemy import select

from portal import events
from portal.slo import status_cache
from portal.slo.models import Slo


@events.readiness_facts.connect
def slo_facts(sender, *, session, service, **_) -> dict:
    """The names of the entry's SLOs defined in the SLO area."""
    # In a page request the SLO specs of the database's version are at hand already (the
    # service page's SLO panel reads them too), in the same order by name.
    current = status_cache.for_request(session=session)
    if current is not None:
        return {"slos": [s.name for s in current.snapshot.slos if s.service_id == service.id]}
    names = session.scalars(select(Slo.name).where(Slo.service_id == service.id)
                            .order_by(Slo.name))
    return {"slos": list(names)}
