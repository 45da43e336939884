"""On-call reacts to incidents (an opened incident pages the owning team's primary; its
pages are acknowledged and resolved with it) and answers the readiness scorecard (does the
owning team have a schedule with people in it)."""
from __future__ import annotations

from flask import current_app, has_app_context

from portal import events
from portal.auth import service as accounts
from portal.db import utcnow
from portal.oncall import notify, paging, roster_notices, schedule_cache


@events.incident_opened.connect
def page_for_incident(sender, *, session, incident_id, severity, title, service_slugs,
                      alert_labels=None, **_) -> None:
    """Start paging for the incident: the chain a route chooses for its alert's labels,
    else its severity's policy, on the schedule of the team owning its services."""
    # Requests and tasks always run in an app context; a bare service call (a script, a
    # unit test of another domain) has no config, so the page is recorded without
    # notifications rather than failing the caller's transaction.
    channels = notify.Channels.from_config(current_app.config) if has_app_context() else None
    paging.start_paging(session=session, incident_id=incident_id, severity=severity,
                        title=title, service_slugs=list(service_slugs or []), channels=channels,
                        alert_labels=alert_labels)


@events.incident_status_changed.connect
def follow_incident(sender, *, session, incident_id, status, actor_email, at, **_) -> None:
    """Acknowledge or resolve the incident's pages with it, so escalation stops."""
    user = accounts.get_by_email(session=session, email=actor_email) if actor_email else None
    paging.follow_incident(session=session, incident_id=incident_id, status=status, user=user,
                           now=at)


@events.readiness_facts.connect
def oncall_facts(sender, *, session, service, **_) -> dict:
    """The owning team's schedule and how many people rotate in its primary layer."""
    # Read from the per-version schedule cache: the service page has already paid for its
    # version check, so the scorecard's question costs no statement.
    found = schedule_cache.structure(session=session, since=utcnow())
    schedule = None if service.team_id is None else next(
        (s for s in found.schedules if s.team_id == service.team_id), None)
    if schedule is None:
        return {"oncall": None}
    return {"oncall": {"schedule": schedule.name,
                       "people": len(found.rotations[(schedule.id, "primary")].participants)}}


@events.person_deprovisioned.connect
def flag_shifts(sender, *, session, user_id, email, name, **_) -> None:
    """Put the person's future shifts on their schedules' pages and tell the managers."""
    base = current_app.config["PUBLIC_BASE_URL"].rstrip("/") if has_app_context() else ""
    roster_notices.flag(session=session, user_id=user_id, email=email, name=name,
                        link_base=base)


# Phone delivery reports update page notifications (their own module).
from portal.oncall import phone_reports  # noqa: E402,F401

# Chat follows pages and incidents through the same signals (its own receivers module).
from portal.oncall.chat import receivers as chat_receivers  # noqa: E402,F401
