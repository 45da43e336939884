"""Signals other domains send that land on incident timelines (see portal.events)."""
from __future__ import annotations

from flask import current_app, has_app_context

from portal import events
from portal.incidents import alerts as linked_alerts
from portal.incidents import service, timeline

PAGE_WORDS = {"sent": "Page sent", "acked": "Page acknowledged", "escalated": "Page escalated",
              "resolved": "Page resolved"}


@events.alert_received.connect
def on_alerts(sender=None, *, session, alerts: list, **_):
    """Open incidents for paging alerts, or update the ones linked to their fingerprints."""
    # The setting lives with the webhook's other settings; a bare service call (a script,
    # another domain's unit test) has no config and keeps incidents open.
    auto_resolve = has_app_context() and bool(
        current_app.config.get("ONCALL_AUTO_RESOLVE_INCIDENTS"))
    linked_alerts.receive_all(session=session, alerts=alerts, auto_resolve=auto_resolve)


@events.page_event.connect
def on_page(sender=None, *, session, incident_id, kind, user_email, summary, at, **_):
    """Pages sent, acknowledged and escalated for an incident go on its timeline."""
    if incident_id is None or service.get(session=session, incident_id=incident_id) is None:
        return
    words = PAGE_WORDS.get(kind, f"Page {kind}")
    timeline.add_entry(session=session, incident_id=incident_id, kind="page",
                       summary=f"{words}: {summary}" if summary else words,
                       actor_email=user_email, details={"kind": kind})


@events.silence_changed.connect
def on_silence(sender=None, *, session, silence_id, action, actor_email, matchers, comment,
               incident_id=None, **_):
    """Silences created or expired for an incident go on its timeline."""
    if incident_id is None or service.get(session=session, incident_id=incident_id) is None:
        return
    shown = ", ".join(f"{m.get('name')}{'=~' if m.get('isRegex') else '='}{m.get('value')}"
                      for m in matchers or [])
    timeline.add_entry(session=session, incident_id=incident_id, kind="silence",
                       summary=f"Silence {action} ({shown}): {comment}",
                       actor_email=actor_email,
                       details={"silence_id": str(silence_id), "action": action})


@events.service_event.connect
def on_service_event(sender=None, *, session, event, **_):
    """Deploys, job steps and policy changes on a service reach its open incidents."""
    if event.kind == "incident":
        return  # our own announcements on the service timeline
    for incident in service.open_for_service(session=session, service_id=event.service_id):
        timeline.add_entry(session=session, incident_id=incident.id, kind="service",
                           summary=f"{event.service.name}: {event.kind}: {event.summary}",
                           actor_email=event.actor_email,
                           details={"service_event_id": event.id, "kind": event.kind,
                                    "url": event.url})
