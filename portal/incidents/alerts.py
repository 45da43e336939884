"""Alerts from Alertmanager, as the incidents domain sees them: open, dedupe, link.

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

import json
from datetime import datetime

from sqlalchemy import select, text
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from portal.catalog.models import Service
from portal.db import utcnow
from portal.incidents import service, timeline
from portal.incidents.models import SEVERITIES, Incident, LinkedAlert

AUTO_OPEN = {"p0": "sev1", "critical": "sev2", "page": "sev2", "p1": "sev2", "p2": "sev2"}
BY_HAND = {"warning": "sev3", "p3": "sev3", "info": "sev4", "p4": "sev4"}


def auto_severity(severity_label: str | None, labels: dict) -> str | None:
    """The severity an alert opens an incident with, or None when it opens none by itself."""
    explicit = str(labels.get("incident_severity", "")).lower()
    if explicit in SEVERITIES:
        return explicit
    return AUTO_OPEN.get((severity_label or "").lower())


def suggested_severity(alert: LinkedAlert) -> str:
    """The severity offered when someone declares an incident from this alert."""
    key = (alert.severity_label or "").lower()
    return auto_severity(key, alert.labels) or BY_HAND.get(key, "sev3")


def _values(alert: dict, now: datetime) -> dict:
    labels, annotations = dict(alert.get("labels") or {}), dict(alert.get("annotations") or {})
    runbook = annotations.get("runbook_url") or annotations.get("runbook") or None
    severity = alert.get("severity") or labels.get("severity")
    return {"fingerprint": alert["fingerprint"], "status": alert["status"], "labels": labels,
            "annotations": annotations, "alertname": str(labels.get("alertname", ""))[:200],
            "severity_label": str(severity)[:32] if severity else None,
            # A longer link is no link: cut short it would point somewhere else.
            "runbook_url": runbook if runbook and len(runbook) <= 500 else None,
            "starts_at": alert.get("starts_at"), "ends_at": alert.get("ends_at"),
            "last_seen_at": now, "service": alert.get("service")}


_COLUMNS = ("fingerprint", "status", "labels", "annotations", "alertname", "severity_label",
            "runbook_url", "starts_at", "ends_at", "last_seen_at")
_TYPES = {"labels": "jsonb", "annotations": "jsonb", "starts_at": "timestamptz",
          "ends_at": "timestamptz", "last_seen_at": "timestamptz"}
# The whole batch as ONE jsonb parameter and ONE statement: the SQL text never changes with
# the batch size, so it is parsed once. `previous` locks the batch's existing rows (in one
# order, so two deliveries cannot deadlock) and reads their status; the always-true WHERE
# makes PostgreSQL do that BEFORE the upsert changes them (a racing delivery waits, then
# sees its commit). An unknown service slug is stored as NULL by the outer join.
_UPSERT = text(f"""
WITH batch AS MATERIALIZED (
    SELECT * FROM jsonb_to_recordset(CAST(:rows AS jsonb))
        AS r({", ".join(f"{c} {_TYPES.get(c, 'text')}" for c in (*_COLUMNS, "service"))})),
previous AS MATERIALIZED (
    SELECT fingerprint, status FROM {LinkedAlert.__tablename__}
    WHERE fingerprint IN (SELECT fingerprint FROM batch) ORDER BY fingerprint FOR UPDATE),
written AS (
    INSERT INTO {LinkedAlert.__tablename__} ({", ".join(_COLUMNS)}, service_slug)
    SELECT {", ".join("b." + c for c in _COLUMNS)}, s.slug
    FROM batch b LEFT JOIN {Service.__tablename__} s ON s.slug = b.service
    WHERE (SELECT count(*) FROM previous) >= 0
    ORDER BY b.fingerprint
    ON CONFLICT (fingerprint) DO UPDATE
    SET {", ".join(f"{c} = excluded.{c}" for c in (*_COLUMNS[1:], "service_slug"))}
    RETURNING id, fingerprint, incident_id)
SELECT w.id, w.fingerprint, w.incident_id, p.status
FROM written w LEFT JOIN previous p ON p.fingerprint = w.fingerprint
ORDER BY w.fingerprint
""")


def _upsert_all(session: Session, alerts: dict[str, dict]) -> list[tuple[int, str, int | None,
                                                                         str | None]]:
    """Record a batch in ONE statement; (row id, fingerprint, incident id, previous status).

    The webhook announces thousands of alerts a second and most of them open nothing, so
    this is the whole cost for them, whatever the size of the batch.
    """
    now = utcnow()
    rows = [_values(a, now) for a in alerts.values()]
    written = session.execute(_UPSERT, {"rows": json.dumps(rows, default=_iso)}).all()
    for alert_id, *_ in written:
        stale = session.identity_map.get(identity_key(LinkedAlert, alert_id))
        if stale is not None:
            session.expire(stale)  # an ORM copy loaded earlier in this transaction
    return written


def _iso(value: datetime) -> str:
    return value.isoformat()


def _pages(alert: dict) -> bool:
    labels = alert.get("labels") or {}
    return auto_severity(alert.get("severity") or labels.get("severity"), labels) is not None


def _title(row: LinkedAlert) -> str:
    summary = row.annotations.get("summary") or row.annotations.get("description") or ""
    return f"{row.alertname}: {summary}" if summary else row.alertname or row.fingerprint


def _link(session: Session, row: LinkedAlert, incident: Incident, actor: str | None) -> None:
    row.incident = incident
    timeline.add_entry(session=session, incident_id=incident.id, kind="alert", pinned=True,
                       summary=f"Alert fired: {_title(row)}", actor_email=actor,
                       at=row.starts_at, details={"fingerprint": row.fingerprint,
                                                  "labels": row.labels})
    if row.runbook_url:
        try:
            service.add_runbook(session=session, incident=incident, url=row.runbook_url,
                                title=f"Runbook for {row.alertname}")
        except ValueError:
            pass  # a malformed annotation must not stop the incident from opening


def receive_all(*, session: Session, alerts: list[dict],
                auto_resolve: bool = False) -> list[Incident]:
    """Record a batch of alerts; open or update the incidents linked to their fingerprints.

    With `auto_resolve`, an incident opened from alerts resolves itself when its last
    alert resolves. Returns the incidents opened or updated.
    """
    latest = {a["fingerprint"]: a for a in alerts}  # the last copy in a batch wins
    if not latest:
        return []
    touched = []
    for alert_id, fingerprint, incident_id, previous in _upsert_all(session, latest):
        alert = latest[fingerprint]
        if incident_id is None and (alert["status"] == "resolved" or not _pages(alert)):
            continue  # recorded; no incident to update and none to open (the common case)
        incident = _follow(session, alert_id, alert["status"], previous, auto_resolve)
        if incident is not None:
            touched.append(incident)
    return touched


def _follow(session: Session, alert_id: int, status: str, previous: str | None,
            auto_resolve: bool) -> Incident | None:
    row = session.get(LinkedAlert, alert_id, populate_existing=True)  # locked by the batch
    incident = row.incident
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
    severity = auto_severity(row.severity_label, row.labels)
    if severity is None:
        row.incident = None
        return None
    return _open(session, row, severity, actor=None)


def _open(session: Session, row: LinkedAlert, severity: str, actor: str | None) -> Incident:
    incident = service.declare(
        session=session, title=_title(row), severity=severity, actor_email=actor,
        source="alert", summary=row.annotations.get("description", ""),
        service_slugs=[row.service_slug] if row.service_slug else [], alert_labels=row.labels)
    _link(session, row, incident, actor)
    return incident


def declare_from(*, session: Session, alert: LinkedAlert, severity: str,
                 actor_email: str) -> Incident:
    """Declare an incident by hand from an alert that did not open one."""
    if alert.incident is not None and alert.incident.is_open:
        raise service.LifecycleError(f"Alert {alert.alertname} already belongs to incident "
                                     f"#{alert.incident_id}.")
    return _open(session, alert, severity, actor=actor_email)


def get(*, session: Session, alert_id: int) -> LinkedAlert | None:
    """One recorded alert."""
    return session.get(LinkedAlert, alert_id)


def unlinked_firing(*, session: Session, limit: int = 50) -> list[LinkedAlert]:
    """Firing alerts that no open incident covers, newest first."""
    return list(session.scalars(select(LinkedAlert).where(
        LinkedAlert.status == "firing", LinkedAlert.incident_id.is_(None))
        .order_by(LinkedAlert.last_seen_at.desc()).limit(limit)))
