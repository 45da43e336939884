"""Demo incidents drawn from Meridian's failure modes and the order-processing case study
with its postmortem. Past incidents are built with their historical times and
without sending `incident_opened`, so seeding never pages anyone for last month's outage.
"""
from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.catalog import service as catalog
from portal.db import utcnow
from portal.incidents import postmortems, timeline
from portal.incidents.models import CustomerUpdate, Incident, IncidentTenant
from portal.tenants import service as tenants

ONCALL, MANAGER, DEV = "oncall@meridian.example", "manager@meridian.example", "dev@meridian.example"
CASE_STUDY = [  # "Order Processing Delayed - Case Study" (minutes after 14:32)
    (0, "alert", "Alert fired: Order processing latency > 5s (P2)"),
    (0, "page", "Page sent: primary on-call paged"),
    (3, "status", "Status triggered → acknowledged"),
    (5, "severity", "Severity Sev3 → Sev2: order success rate dropping, error rate 15%"),
    (7, "note", "payment-service shows 10s+ latency; trace opened in Tempo"),
    (10, "note", "payment-service logs: database connection pool exhausted"),
    (13, "note", "order-service holds 485/500 connections; connections not returned to pool"),
    (16, "status", "Status acknowledged → mitigated: order-service pods restarted"),
    (19, "note", "payment-service has the same leak; pods restarted"),
    (22, "status", "Status mitigated → resolved: all metrics normal"),
]
PAST = [
    dict(title="Order processing delayed: database connection leak", severity="sev2",
         services=["order", "postgresql"], days_ago=40, ack=3, mitigate=16, resolve=22,
         postmortem="done", entries=CASE_STUDY,
         summary="Connection pool leak in order-service and payment-service.",
         root_cause="Connections were never returned to the pool on the exception path.",
         items=[("Add connection pool exhaustion alert", ONCALL, 1, "done"),
                ("Add integration test for connection cleanup on exception", DEV, 3, "done"),
                ("Add load testing to staging pipeline", DEV, 7, "in_progress"),
                ("Review all database connection pools for similar leaks", DEV, 10, "open")]),
    dict(title="RabbitMQ disk alarm blocks publishers", severity="sev1",
         services=["rabbitmq", "order", "fulfillment"], days_ago=25, ack=4, mitigate=31,
         resolve=52, postmortem="done", tenants=["acme-retail", "globex-outfitters"],
         summary="Disk alarm on the RabbitMQ cluster blocked publishers; orders persisted but "
                 "fulfillment stalled.",
         root_cause="Queue backup during a consumer outage filled the disks of two nodes.",
         items=[("Alert on RabbitMQ disk free below 30%", ONCALL, 5, "done")]),
    dict(title="Elasticsearch cluster red: search unavailable", severity="sev2",
         services=["search", "elasticsearch"], days_ago=4, ack=9, mitigate=38, resolve=71,
         postmortem="overdue",
         summary="Lost primary shard; reindex from PostgreSQL took 45 minutes."),
    dict(title="Webhook signature validation failure drops payment confirmations",
         severity="sev3", services=["billing"], days_ago=12, ack=35, mitigate=90, resolve=140),
    dict(title="Carrier API timeout delays shipping label generation", severity="sev3",
         services=["fulfillment"], days_ago=58, ack=22, mitigate=60, resolve=95),
    dict(title="Vault token expiry blocks key rotation", severity="sev2",
         services=["auth", "vault"], days_ago=70, ack=12, mitigate=44, resolve=80,
         postmortem="late", summary="Auth could not rotate signing keys.",
         root_cause="The Vault token of the rotation job expired unnoticed."),
]
OPEN: dict[str, Any] = dict(title="Stale stock levels: warehouse sync delayed up to 15 minutes", severity="sev2",
            services=["inventory"], tenants=["acme-retail"], minutes_ago=35, ack=4,
            update="Stock levels shown in your dashboards may be up to 15 minutes old. "
                   "Orders are not affected; our engineers are working on the sync.")


def _entries(session: Session, incident: Incident, spec: dict) -> None:
    start = incident.opened_at
    rows = spec.get("entries") or [
        (0, "alert", f"Alert fired for {', '.join(spec['services'])}"),
        (spec["ack"], "status", "Status triggered → acknowledged"),
        (spec["mitigate"], "status", "Status acknowledged → mitigated"),
        (spec["resolve"], "status", "Status mitigated → resolved")]
    for minute, kind, text in rows:
        if kind == "note":
            timeline.add_note(session=session, incident_id=incident.id, body=text,
                              actor_email=ONCALL).at = start + timedelta(minutes=minute)
        else:
            timeline.add_entry(session=session, incident_id=incident.id, kind=kind,
                               summary=text, actor_email=ONCALL, pinned=kind == "status",
                               at=start + timedelta(minutes=minute))


def _incident(session: Session, spec: dict, opened) -> Incident:
    incident = Incident(
        title=spec["title"], severity=spec["severity"], summary=spec.get("summary", ""),
        customer_facing=bool(spec.get("tenants")), source="alert", declared_by=ONCALL,
        roles={"commander": ONCALL, "tech_lead": DEV, "comms_lead": MANAGER},
        opened_at=opened, services=[catalog.get_service(session=session, slug=s)
                                    for s in spec["services"]],
        tenant_links=[IncidentTenant(tenant_id=_tenant_id(session, t))
                      for t in spec.get("tenants", [])])
    session.add(incident)
    session.flush()
    return incident


def _tenant_id(session: Session, slug: str) -> int:
    tenant = tenants.get_by_slug(session=session, slug=slug)
    assert tenant is not None, slug  # the demo tenants are seeded before the incidents
    return tenant.id


def _past(session: Session, spec: dict) -> None:
    opened = (utcnow() - timedelta(days=spec["days_ago"])).replace(hour=14, minute=32, second=0,
                                                                  microsecond=0)
    incident = _incident(session, spec, opened)
    incident.status = "resolved"
    incident.acknowledged_at = opened + timedelta(minutes=spec["ack"])
    incident.mitigated_at = opened + timedelta(minutes=spec["mitigate"])
    incident.resolved_at = opened + timedelta(minutes=spec["resolve"])
    _entries(session, incident, spec)
    pm = postmortems.require_if_needed(session=session, incident=incident)
    if pm is not None and spec.get("postmortem") in ("done", "late"):
        hours = 20 if spec["postmortem"] == "done" else 70
        postmortems.save(session=session, postmortem=pm, actor_email=ONCALL, complete=True,
                         fields={**{n: getattr(pm, n) for n in postmortems.FIELDS},
                                 "summary": spec["summary"], "root_cause": spec["root_cause"],
                                 "went_well": "Paged within minutes; mitigation before root cause."})
        pm.completed_at = incident.resolved_at + timedelta(hours=hours)
    for title, owner, due_days, status in spec.get("items", []):
        item = postmortems.add_action_item(session=session, incident=incident, title=title,
                                           owner_email=owner,
                                           due_date=(opened + timedelta(days=due_days)).date())
        postmortems.set_action_status(session=session, item=item, status=status)


def _open(session: Session) -> None:
    incident = _incident(session, OPEN, utcnow() - timedelta(minutes=OPEN["minutes_ago"]))
    incident.status = "acknowledged"
    incident.acknowledged_at = incident.opened_at + timedelta(minutes=OPEN["ack"])
    timeline.add_entry(session=session, incident_id=incident.id, kind="alert", pinned=True,
                       summary="Alert fired: inventory warehouse sync lag > 10 min",
                       at=incident.opened_at)
    timeline.add_entry(session=session, incident_id=incident.id, kind="status", pinned=True,
                       summary="Status triggered → acknowledged", actor_email=ONCALL,
                       at=incident.acknowledged_at)
    session.add(CustomerUpdate(incident_id=incident.id, status="acknowledged",
                               message=OPEN["update"], author_email=MANAGER))
    timeline.add_entry(session=session, incident_id=incident.id, kind="customer_update",
                       summary=f"Customer update: {OPEN['update']}", actor_email=MANAGER)


def seed(*, session: Session) -> None:
    """The demo incidents; existing ones (by title) are left as they are."""
    existing = set(session.scalars(select(Incident.title)))
    for spec in PAST:
        if spec["title"] not in existing:
            _past(session, spec)
    if OPEN["title"] not in existing:
        _open(session)
    session.flush()
