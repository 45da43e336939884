"""The status page as JSON in the shape of Atlassian Statuspage's `summary.json` (v2):
page, components, unresolved incidents, upcoming and active maintenance, and the overall
status indicator, so tools that read Statuspage can read it too."""
from __future__ import annotations

from datetime import datetime

from portal.incidents.models import Incident
from portal.statuspage.models import Maintenance
from portal.statuspage.service import StatusPage

# Our lifecycle in Statuspage's incident words.
INCIDENT_STATUS = {"triggered": "investigating", "acknowledged": "identified",
                   "mitigated": "monitoring", "resolved": "resolved"}
IMPACT = {"sev1": "critical", "sev2": "major", "sev3": "minor", "sev4": "none"}
INDICATOR = {"operational": ("none", "All Systems Operational"),
             "under_maintenance": ("maintenance", "Service Under Maintenance"),
             "degraded_performance": ("minor", "Minor Service Outage"),
             "partial_outage": ("major", "Partial System Outage"),
             "major_outage": ("critical", "Major System Outage")}


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _components(status: StatusPage, slugs=None) -> list[dict]:
    page_id = status.tenant.slug
    return [{"id": c.slug, "name": c.name, "status": c.state, "position": n + 1,
             "description": None, "showcase": True, "group_id": None, "group": False,
             "only_show_if_degraded": False, "page_id": page_id,
             "created_at": None, "updated_at": _iso(status.now)}
            for n, c in enumerate(status.components) if slugs is None or c.slug in slugs]


def _incident(status: StatusPage, incident: Incident) -> dict:
    updates = status.updates.get(incident.id, [])
    affected = status.affected.get(incident.id, [])
    last = updates[0].created_at if updates else incident.opened_at
    return {
        "id": str(incident.id), "name": incident.title,
        "status": INCIDENT_STATUS[incident.status], "impact": IMPACT[incident.severity],
        "created_at": _iso(incident.opened_at), "started_at": _iso(incident.opened_at),
        "updated_at": _iso(last), "monitoring_at": _iso(incident.mitigated_at),
        "resolved_at": _iso(incident.resolved_at), "shortlink": None,
        "page_id": status.tenant.slug,
        "incident_updates": [{
            "id": str(u.id), "incident_id": str(incident.id),
            "status": INCIDENT_STATUS.get(u.status, u.status), "body": u.message,
            "created_at": _iso(u.created_at), "updated_at": _iso(u.created_at),
            "display_at": _iso(u.created_at), "affected_components": None}
            for u in updates],
        "components": _components(status, set(affected)),
    }


def _maintenance(status: StatusPage, window: Maintenance) -> dict:
    running = window.starts_at <= status.now
    return {
        "id": f"maintenance-{window.id}", "name": window.title,
        "status": "in_progress" if running else "scheduled", "impact": "maintenance",
        "created_at": _iso(window.created_at), "updated_at": _iso(window.created_at),
        "started_at": _iso(window.starts_at) if running else None, "monitoring_at": None,
        "resolved_at": None, "shortlink": None, "page_id": status.tenant.slug,
        "scheduled_for": _iso(window.starts_at), "scheduled_until": _iso(window.ends_at),
        "incident_updates": [{"id": f"maintenance-{window.id}-plan", "status": "scheduled",
                              "body": window.description or window.title,
                              "created_at": _iso(window.created_at),
                              "updated_at": _iso(window.created_at),
                              "display_at": _iso(window.created_at),
                              "incident_id": f"maintenance-{window.id}",
                              "affected_components": None}],
        "components": _components(status, set(window.service_slugs)),
    }


def summary(status: StatusPage, *, url: str) -> dict:
    """The summary document of a status page whose HTML lives at `url`."""
    indicator, description = INDICATOR[status.state]
    return {
        "page": {"id": status.tenant.slug, "name": f"{status.tenant.name} status",
                 "url": url, "time_zone": "Etc/UTC", "updated_at": _iso(status.now)},
        "components": _components(status),
        "incidents": [_incident(status, i) for i in status.open_incidents],
        "scheduled_maintenances": [_maintenance(status, m) for m in status.maintenances],
        "status": {"indicator": indicator, "description": description},
    }
