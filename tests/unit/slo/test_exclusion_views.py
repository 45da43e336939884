"""Exclusion pages: listed on the SLO page for every reader, created and deleted by managers
and admins only, validated (422 with the message), hostile input refused with a 4xx, and
every change in the audit log."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.auth.models import AuditEntry
from portal.slo.models import Exclusion
from tests.unit.slo.factories import make_service, make_slo

WEEKLY = {"starts": "2026-03-01T03:00", "time_zone": "Europe/Berlin", "ends": "",
          "rrule": "FREQ=WEEKLY;BYDAY=SU", "duration_minutes": "120",
          "reason": "Weekly database maintenance"}


@pytest.fixture
def slo(session):
    found = make_slo(session, make_service(session))
    session.commit()
    return found


def _audit(session, action):
    return list(session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def _exclusions(session, slo):
    session.expire_all()
    return list(session.scalars(select(Exclusion).where(Exclusion.slo_id == slo.id)))


@pytest.mark.parametrize("role", ["manager", "admin"])
def test_managers_and_admins_create_and_delete_audited(client, login_as, session, slo, role):
    user = login_as(role)
    created = client.post_form(f"/slo/{slo.id}/exclusions", WEEKLY)
    assert created.status_code == 303 and created.location.endswith(f"/slo/{slo.id}#exclusions")
    [made] = _exclusions(session, slo)
    assert (made.rrule, made.duration_minutes, made.created_by_email) == (
        "FREQ=WEEKLY;BYDAY=SU", 120, user.email)
    [entry] = _audit(session, "slo.exclusion_create")
    assert entry.actor_email == user.email and entry.target_id == str(slo.id)
    assert entry.details["reason"] == "Weekly database maintenance"
    assert "weekly" in entry.details["window"]
    page = client.get(f"/slo/{slo.id}").get_data(as_text=True)
    assert f'id="exclusion-{made.id}"' in page and "Weekly database maintenance" in page
    assert 'id="exclusion-form"' in page

    made_id = made.id
    deleted = client.post_form(f"/slo/exclusions/{made_id}/delete")
    assert deleted.status_code == 303 and _exclusions(session, slo) == []
    assert _audit(session, "slo.exclusion_delete")[0].details["exclusion_id"] == made_id


@pytest.mark.parametrize("role", ["developer", "oncall"])
def test_others_see_the_list_but_cannot_change_it(client, login_as, session, slo, role):
    login_as("manager")
    assert client.post_form(f"/slo/{slo.id}/exclusions", WEEKLY).status_code == 303
    [made] = _exclusions(session, slo)
    client.post("/logout")
    login_as(role)
    page = client.get(f"/slo/{slo.id}").get_data(as_text=True)
    assert f'id="exclusion-{made.id}"' in page and 'id="exclusion-form"' not in page
    assert client.get(f"/slo/{slo.id}/exclusions").status_code == 200
    assert client.post_form(f"/slo/{slo.id}/exclusions", WEEKLY).status_code == 403
    assert client.post_form(f"/slo/exclusions/{made.id}/delete").status_code == 403
    assert len(_exclusions(session, slo)) == 1


def test_tenant_viewers_and_anonymous_are_kept_out(client, login_as, slo):
    assert client.get(f"/slo/{slo.id}/exclusions").status_code in (302, 303)
    login_as("tenant_viewer")
    assert client.get(f"/slo/{slo.id}/exclusions").status_code == 403


def test_bad_rrule_gives_422_with_the_message(client, login_as, session, slo):
    login_as("manager")
    response = client.post_form(f"/slo/{slo.id}/exclusions",
                                {**WEEKLY, "rrule": "FREQ=WEEKLY;BYDAY=XX"})
    assert response.status_code == 422
    assert "not a valid RRULE" in response.get_data(as_text=True)
    assert _exclusions(session, slo) == [] and not _audit(session, "slo.exclusion_create")


@pytest.mark.parametrize("over", [
    {"duration_minutes": "9" * 40}, {"duration_minutes": "١٢٠"}, {"duration_minutes": "-5"},
    {"starts": "9999999-01-01T00:00"}, {"reason": "x" * 100_000}, {"time_zone": "../../etc/passwd"},
    {"rrule": "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30"}, {"rrule": "FREQ=WEEKLY\nEXDATE:20260301"},
    {"rrule": "FREQ=WEEKLY;COUNT=" + "9" * 5000},
])
def test_hostile_input_is_refused_with_a_4xx(client, login_as, session, slo, over):
    login_as("manager")
    response = client.post_form(f"/slo/{slo.id}/exclusions", {**WEEKLY, **over})
    assert 400 <= response.status_code < 500
    assert _exclusions(session, slo) == []


def test_nul_bytes_are_refused(client, login_as, session, slo):
    login_as("manager")
    response = client.post_form(f"/slo/{slo.id}/exclusions", {**WEEKLY, "reason": "a\x00b"})
    assert response.status_code == 400 and _exclusions(session, slo) == []


def test_unknown_ids_are_404(client, login_as):
    login_as("manager")
    assert client.post_form("/slo/999999/exclusions", WEEKLY).status_code == 404
    assert client.post_form("/slo/exclusions/999999/delete").status_code == 404
