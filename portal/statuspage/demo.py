"""Demo maintenance: the search cluster's rolling upgrade next Sunday night, so the status
pages show how planned work looks before it starts; running it twice changes nothing."""
from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from sqlalchemy.orm import Session

from portal.catalog import service as catalog
from portal.db import utcnow
from portal.statuspage import service

TITLE = "Search cluster rolling upgrade"


def seed(*, session: Session) -> None:
    """Plan the demo maintenance window once, on the components that exist."""
    now = utcnow()
    if any(m.title == TITLE for m in service.maintenances_between(session=session, start=now)):
        return
    known = {c.slug for c in catalog.customer_map(session=session).components}
    slugs = [s for s in ("search", "inventory") if s in known]
    if not slugs:
        return
    sunday = now.date() + timedelta(days=(6 - now.weekday()) or 7)
    starts_at = datetime.combine(sunday, time(2, 0), tzinfo=UTC)
    service.schedule_maintenance(
        session=session, title=TITLE, service_slugs=slugs, starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=2), actor_email="oncall@meridian.example",
        known_slugs=known,
        description="Search nodes restart one at a time; product search may answer slowly.")
