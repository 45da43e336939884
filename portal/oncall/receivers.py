"""On-call reacts to incidents: an opened incident pages the owning team's primary."""
from __future__ import annotations

from flask import current_app

from portal import events
from portal.oncall import notify, paging


@events.incident_opened.connect
def page_for_incident(sender, *, session, incident_id, severity, title, service_slugs,
                      **_) -> None:
    """Start paging the current primary of the team owning the incident's services."""
    paging.start_paging(session=session, incident_id=incident_id, severity=severity,
                        title=title, service_slugs=list(service_slugs or []),
                        channels=notify.Channels.from_config(current_app.config))
