"""Declaring incidents and the lifecycle rules, at the service layer."""
from datetime import timedelta

import pytest

from portal.catalog import service as catalog
from portal.incidents import service, timeline
from portal.incidents.models import CustomerUpdate


def kinds(session, incident):
    return [e.kind for e in timeline.all_entries(session=session, incident_id=incident.id)]


def test_declare_records_entry_service_event_and_signal(session, make_incident, svc,
                                                        opened_signals):
    incident = make_incident("sev1")
    assert (incident.status, incident.severity, incident.roles) == (
        "triggered", "sev1", {"commander": "oncall@test.example"})
    assert [s.slug for s in incident.services] == [svc.slug]
    first = timeline.all_entries(session=session, incident_id=incident.id)[0]
    assert (first.kind, first.pinned) == ("status", True)
    assert "declared as Sev1" in first.summary
    assert opened_signals == [{"session": session, "incident_id": incident.id,
                               "severity": "sev1", "title": "Orders failing",
                               "service_slugs": [svc.slug], "alert_labels": {}}]
    events = catalog.timeline(session=session, service=svc)
    assert events[0].kind == "incident" and f"#{incident.id}" in events[0].summary


@pytest.mark.parametrize("bad", ["sev5", "SEV1", "", "critical"])
def test_unknown_severity_is_refused(session, bad):
    with pytest.raises(ValueError, match="Unknown severity"):
        service.declare(session=session, title="x", severity=bad, actor_email=None)


def test_unknown_service_is_refused(session):
    with pytest.raises(ValueError, match="Unknown service 'nope'"):
        service.declare(session=session, title="x", severity="sev3", actor_email=None,
                        service_slugs=["nope"])


def test_full_lifecycle_sets_timestamps_in_order(session, make_incident, make_user):
    incident, oncall = make_incident(), make_user("oncall")
    for to in ("acknowledged", "mitigated", "resolved"):
        service.change_status(session=session, incident=incident, to=to, actor=oncall)
    assert incident.opened_at <= incident.acknowledged_at <= incident.mitigated_at \
        <= incident.resolved_at
    assert kinds(session, incident).count("status") == 4


@pytest.mark.parametrize("roles, start, to, allowed", [
    (("oncall",), "triggered", "resolved", False),     # no resolve before acknowledge...
    (("manager",), "triggered", "resolved", False),
    (("admin",), "triggered", "resolved", True),       # ...unless by an admin
    (("oncall",), "triggered", "mitigated", False),
    (("admin",), "triggered", "mitigated", True),
    (("developer",), "triggered", "acknowledged", False),  # status needs oncall/manager
    (("oncall",), "triggered", "acknowledged", True),
    (("manager",), "acknowledged", "resolved", True),
    (("oncall",), "resolved", "acknowledged", False),  # reopening needs a manager
    (("manager",), "resolved", "acknowledged", True),
])
def test_status_permission_matrix(session, make_incident, make_user, roles, start, to, allowed):
    incident, admin = make_incident(), make_user("admin")
    path = {"triggered": [], "acknowledged": ["acknowledged"],
            "resolved": ["acknowledged", "resolved"]}[start]
    for step in path:
        service.change_status(session=session, incident=incident, to=step, actor=admin)
    actor = make_user(*roles)
    if allowed:
        service.change_status(session=session, incident=incident, to=to, actor=actor)
        assert incident.status == to
    else:
        with pytest.raises(service.NotAllowed):
            service.change_status(session=session, incident=incident, to=to, actor=actor)
        assert incident.status == start


@pytest.mark.parametrize("start, to", [("triggered", "triggered"), ("triggered", "bogus"),
                                       ("resolved", "mitigated")])
def test_impossible_moves_are_lifecycle_errors(session, make_incident, make_user, start, to):
    incident, admin = make_incident(), make_user("admin")
    if start == "resolved":
        service.change_status(session=session, incident=incident, to="resolved", actor=admin)
    with pytest.raises(service.LifecycleError):
        service.change_status(session=session, incident=incident, to=to, actor=admin)


def test_admin_resolving_unacknowledged_leaves_mtta_unrecorded(session, make_incident,
                                                               make_user):
    incident = make_incident()
    service.change_status(session=session, incident=incident, to="resolved",
                          actor=make_user("admin"))
    assert incident.acknowledged_at is None and incident.resolved_at is not None


def test_reopen_clears_resolution(session, make_incident, make_user):
    incident, manager = make_incident(), make_user("manager")
    for to in ("acknowledged", "resolved", "acknowledged"):
        service.change_status(session=session, incident=incident, to=to, actor=manager)
    assert incident.resolved_at is None and incident.acknowledged_at is not None


@pytest.mark.parametrize("severity, required", [("sev1", True), ("sev2", True),
                                                ("sev3", False), ("sev4", False)])
def test_resolving_requires_a_postmortem_within_48h_for_sev1_and_sev2(
        session, make_incident, make_user, severity, required):
    incident, oncall = make_incident(severity), make_user("oncall")
    for to in ("acknowledged", "resolved"):
        service.change_status(session=session, incident=incident, to=to, actor=oncall)
    pm = incident.postmortem
    assert (pm is not None and pm.required) is required
    if required:
        assert pm.due_at == incident.resolved_at + timedelta(hours=48)
        assert "Duration:" in pm.impact and "[status]" in pm.timeline


def test_raising_severity_after_resolution_makes_postmortem_required(session, make_incident,
                                                                     make_user):
    incident, oncall = make_incident("sev3"), make_user("oncall")
    for to in ("acknowledged", "resolved"):
        service.change_status(session=session, incident=incident, to=to, actor=oncall)
    service.change_severity(session=session, incident=incident, severity="sev2",
                            actor_email=oncall.email)
    assert incident.postmortem.required
    assert "severity" in kinds(session, incident)


def test_roles_go_to_staff_only_and_reach_the_timeline(session, make_incident, make_user):
    incident, lead = make_incident(), make_user("developer")
    service.assign_role(session=session, incident=incident, role="tech_lead", email=lead.email,
                        actor_email="x@test.example")
    assert incident.roles["tech_lead"] == lead.email
    assert kinds(session, incident)[-1] == "role"
    viewer = make_user("tenant_viewer")
    with pytest.raises(ValueError, match="No Meridian staff account"):
        service.assign_role(session=session, incident=incident, role="scribe",
                            email=viewer.email, actor_email="x@test.example")
    with pytest.raises(ValueError, match="Unknown incident role"):
        service.assign_role(session=session, incident=incident, role="hero", email=None,
                            actor_email="x@test.example")


def test_customer_facing_status_changes_publish_updates(session, make_incident, make_user,
                                                        make_tenant):
    tenant = make_tenant()
    incident = make_incident(customer_facing=True, tenants=[tenant.slug])
    service.change_status(session=session, incident=incident, to="acknowledged",
                          actor=make_user("oncall"))
    updates = service.updates(session=session, incident_id=incident.id)
    assert [u.status for u in updates] == ["acknowledged", "triggered"]
    assert service.for_tenant(session=session, tenant_id=tenant.id, open_only=True) == [incident]


def test_internal_incidents_refuse_customer_updates(session, make_incident):
    incident = make_incident()
    with pytest.raises(service.LifecycleError, match="customer-facing"):
        service.publish_update(session=session, incident=incident, message="hi",
                               actor_email=None)
    assert session.query(CustomerUpdate).filter_by(incident_id=incident.id).count() == 0
