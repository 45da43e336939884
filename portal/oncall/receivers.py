"""On-call reacts to incidents: an opened incident pages the owning team's primary."""
from __future__ import annotations

from flask import current_app, has_app_context

from portal import events
from portal.oncall import notify, paging


@events.incident_opened.connect
def page_for_incident(sender, *, session, incident_id, severity, title, service_slugs,
                      **_) -> None:
    """Start paging the current primary of the team owning the incident's services."""
    # Requests and tasks always run in an app context; a bare service call (a script, a
    # unit test of another domain) has no config, so the page is recorded without
    # notifications rather than failing the caller's transaction.
    channels = notify.Channels.from_config(current_app.config) if has_app_context() else None
    paging.start_paging(session=session, incident_id=incident_id, severity=severity,
                        title=title, service_slugs=list(service_slugs or []), channels=channels)
