"""Alerts from Alertmanager, as the incidents domain sees them: open and link.

The on-call domain stores each alert once (`oncall_alerts`, deduplicated by fingerprint)
and announces the new or changed ones; this module decides which of them open or join an
incident and keeps the link (the row's `incident_id`).

Severity mapping (escalation levels and alert rules):
- `P0` → Sev1 ("service completely unavailable, production data loss").
- `critical`, `page`, `P1`, `P2` → Sev2. The critical alert rules (HighErrorRate > 5%,
  DBConnectionPoolExhausted) describe degraded service and partial outage, which the escalation
  levels call Sev2; calling every critical alert Sev1 would page all on-call engineers for them.
- A rule may ask for another level with the label `incident_severity="sev1"` (wins).
- `warning`/`P3` (business hours) and `info`/`P4` open nothing by themselves;
  they wait on the incidents page where someone may declare them (Sev3 / Sev4).
"""
from __future__ import annotations

from types import SimpleNamespace

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.incidents import service, timeline
from portal.incidents.models import SEVERITIES, Incident
from portal.oncall.models import ReceivedAlert

AUTO_OPEN = {"p0": "sev1", "critical": "sev2", "page": "sev2", "p1": "sev2", "p2": "sev2"}
BY_HAND = {"warning": "sev3", "p3": "sev3", "info": "sev4", "p4": "sev4"}


def auto_severity(severity_label: str | None, labels: dict) -> str | None:
    """The severity an alert opens an incident with, or None when it opens none by itself."""
    explicit = str(labels.get("incident_severity", "")).lower()
    if explicit in SEVERITIES:
        return explicit
    return AUTO_OPEN.get((severity_label or "").lower())


def suggested_severity(alert: ReceivedAlert) -> str:
    """The severity offered when someone declares an incident from this alert."""
    key = (alert.severity or "").lower()
    return auto_severity(key, alert.labels) or BY_HAND.get(key, "sev3")


def _pages(alert: dict) -> bool:
    labels = alert.get("labels") or {}
    return auto_severity(alert.get("severity") or labels.get("severity"), labels) is not None


def _title(row: ReceivedAlert) -> str:
    summary = row.annotations.get("summary") or row.annotations.get("description") or ""
    return f"{row.alertname}: {summary}" if summary else row.alertname or row.fingerprint


def _runbook_url(row: ReceivedAlert) -> str | None:
    url = row.annotations.get("runbook_url") or row.annotations.get("runbook") or None
    # A longer link is no link: cut short it would point somewhere else.
    return url if url and len(url) <= 500 else None


def _link(session: Session, row: ReceivedAlert, incident: Incident, actor: str | None) -> None:
    row.incident = incident
    timeline.add_entry(session=session, incident_id=incident.id, kind="alert", pinned=True,
                       summary=f"Alert fired: {_title(row)}", actor_email=actor,
                       at=row.starts_at, details={"fingerprint": row.fingerprint,
                                                  "labels": row.labels})
    runbook_url = _runbook_url(row)
    if runbook_url:
        try:
            service.add_runbook(session=session, incident=incident, url=runbook_url,
                                title=f"Runbook for {row.alertname}")
        except ValueError:
            pass  # a malformed annotation must not stop the incident from opening


def receive_all(*, session: Session, alerts: list[dict],
                auto_resolve: bool = False) -> list[Incident]:
    """Open or update the incidents of a delivery's new or changed alerts, which the
    on-call domain already stored (and holds locked until its transaction ends).

    With `auto_resolve`, an incident opened from alerts resolves itself when its last
    alert resolves. Returns the incidents opened or updated.
    """
    latest = {a["fingerprint"]: a for a in alerts}  # the last copy in a batch wins
    touched = []
    for fingerprint in sorted(latest):
        alert = latest[fingerprint]
        if alert.get("incident_id") is None and (alert["status"] == "resolved"
                                                 or not _pages(alert)):
            continue  # no incident to update and none to open (the common case): no SQL
        incident = _follow(session, fingerprint, alert["status"],
                           alert.get("previous_status"), auto_resolve)
        if incident is not None:
            touched.append(incident)
    return touched


def _follow(session: Session, fingerprint: str, status: str, previous: str | None,
            auto_resolve: bool) -> Incident | None:
    row = session.get(ReceivedAlert, fingerprint, populate_existing=True)
    if row is None:
        return None
    incident: Incident | None = row.incident
    if status == "resolved":
        if incident is not None and previous == "firing":
            timeline.add_entry(session=session, incident_id=incident.id, kind="alert",
                               summary=f"Alert resolved: {_title(row)}",
                               details={"fingerprint": row.fingerprint})
            if auto_resolve and incident.is_open:
                service.resolve_when_alerts_resolved(session=session, incident=incident)
        return incident
    if incident is not None and incident.is_open:
        if previous == "resolved":  # a repeat notification of a firing alert adds nothing
            timeline.add_entry(session=session, incident_id=incident.id, kind="alert",
                               summary=f"Alert fired again: {_title(row)}",
                               details={"fingerprint": row.fingerprint})
        return incident
    severity = auto_severity(row.severity, row.labels)
    if severity is None:
        row.incident = None
        return None
    return _open(session, row, severity, actor=None)


def _open(session: Session, row: ReceivedAlert, severity: str, actor: str | None) -> Incident:
    incident = service.declare(
        session=session, title=_title(row), severity=severity, actor_email=actor,
        source="alert", summary=row.annotations.get("description", ""),
        service_slugs=[row.service] if row.service else [], alert_labels=row.labels)
    _link(session, row, incident, actor)
    return incident


def declare_from(*, session: Session, alert: ReceivedAlert, severity: str,
                 actor_email: str) -> Incident:
    """Declare an incident by hand from an alert that did not open one."""
    if alert.incident is not None and alert.incident.is_open:
        raise service.LifecycleError(f"Alert {alert.alertname} already belongs to incident "
                                     f"#{alert.incident_id}.")
    return _open(session, alert, severity, actor=actor_email)


def get(*, session: Session, fingerprint: str) -> ReceivedAlert | None:
    """One stored alert."""
    return session.get(ReceivedAlert, fingerprint)


_ALERTS = ReceivedAlert.__table__


def unlinked_firing(*, session: Session, limit: int = 50) -> list[SimpleNamespace]:
    """Firing alerts that no incident covers, most recently notified first, as plain rows of
    what the incident list shows of each (its name, labels, annotations, severity, service,
    start and fingerprint): cheaper to load than the alerts themselves."""
    c = _ALERTS.c
    rows = session.execute(
        select(c.fingerprint, c.labels, c.annotations, c.severity, c.service, c.starts_at)
        .where(c.status == "firing", c.incident_id.is_(None))
        .order_by(c.last_received_at.desc()).limit(limit))
    return [SimpleNamespace(**r._mapping, alertname=str((r.labels or {}).get("alertname", "")))
            for r in rows]
