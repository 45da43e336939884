"""Importing from Grafana OnCall's HTTP API (a local fake that checks the documented
requests): the imported schedule names, hour by hour for eight weeks across the March DST
change, the same people as the fake's own final_shifts; a re-run changes nothing; a dry
run writes nothing; bad sources are refused with a clear message."""
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from portal.auth.models import AuditEntry, User
from portal.oncall import service
from portal.oncall.importing.apply import apply_plan, preview
from portal.oncall.importing.oncall_client import (
    OnCallImportError,
    plan_from_api,
    read_oncall,
)
from portal.oncall.models import Schedule
from portal.oncall.rotation_models import ImportMapping, LayeredRotation
from portal.security.outbound import get_json
from tests.integration.oncall_import.conftest import TOKEN

LOOPBACK = ("127.0.0.1",)  # the fake listens on loopback, which production refuses
START, WEEKS = datetime(2026, 3, 2, tzinfo=UTC), 8


def _plan(fake):
    return plan_from_api(base_url=fake.url, token=TOKEN, allowlist=LOOPBACK)


def test_client_sends_the_documented_requests_and_follows_pages(fake_oncall):
    objects = read_oncall(base_url=fake_oncall.url + "/", token=TOKEN, allowlist=LOOPBACK)
    assert len(objects.users) == 7 and len(objects.shifts) == 8
    assert {auth for _, _, auth in fake_oncall.requests} == {TOKEN}
    user_pages = sorted(page for path, page, _ in fake_oncall.requests
                        if path == "/api/v1/users/")
    assert user_pages == [1, 2, 3, 4]
    assert {path for path, _, _ in fake_oncall.requests} == {
        f"/api/v1/{name}/" for name in ("users", "teams", "schedules", "on_call_shifts",
                                        "escalation_chains", "escalation_policies",
                                        "integrations", "routes")}


def test_plan_reports_what_cannot_be_mapped(fake_oncall):
    plan = _plan(fake_oncall)
    reasons = {u.external_id: u.reason for u in plan.unmapped}
    assert "by_month" in reasons["OH8BYMONTH"]
    assert "iCal" in reasons["SICAL00000001"]
    assert "trigger_webhook" in reasons["E4"]
    assert "Jinja2" in reasons["RJINJA2000001"]
    schedule, quarterly = plan.schedules
    assert quarterly.rotations == ()
    assert len(schedule.rotations) == 6 and len(schedule.overrides) == 1
    assert [s.kind for s in plan.chains[0].steps] == ["notify_schedule", "wait", "notify_users"]
    assert {r.matcher for r in plan.routes} == {"", "us-(east|west)"}


def test_imported_schedule_matches_grafana_final_shifts_hourly(session, fake_oncall, make_user):
    result = apply_plan(session=session, plan=_plan(fake_oncall), actor=make_user("admin"))
    assert result.created["schedules"] == 2 and result.created["rotations"] == 6
    schedule_id = session.scalar(select(ImportMapping.local_id).where(
        ImportMapping.kind == "schedule", ImportMapping.external_id == "SBM7DV7BKFUYU"))
    schedule = session.get(Schedule, schedule_id)
    end = START + timedelta(weeks=WEEKS)
    status, body = get_json(
        f"{fake_oncall.url}/api/v1/schedules/SBM7DV7BKFUYU/final_shifts/"
        f"?start_date={START:%Y-%m-%d}&end_date={(end - timedelta(days=1)):%Y-%m-%d}",
        headers={"Authorization": TOKEN}, timeout=10, allowlist=LOOPBACK)
    assert status == 200
    finals = [(datetime.fromisoformat(r["shift_start"]), datetime.fromisoformat(r["shift_end"]),
               r["user_email"]) for r in body["results"]]
    hour, checked, seen = START, 0, set()
    while hour < end:
        expected = {email for a, b, email in finals if a <= hour < b}
        shift = service.on_call(session=session, schedule=schedule, layer="primary", at=hour)
        actual = {u.email for u in shift.everyone} if shift else set()
        assert actual == expected, f"at {hour:%Y-%m-%d %H:%M}Z"
        seen |= actual
        hour += timedelta(hours=1)
        checked += 1
    assert checked == WEEKS * 7 * 24 and len(seen) == 7  # everyone held a shift somewhere
    # The spring change moves the Monday 09:00 hand-off from 08:00 to 07:00 UTC.
    before = service.on_call(session=session, schedule=schedule, layer="primary",
                             at=datetime(2026, 3, 30, 6, 30, tzinfo=UTC))
    after = service.on_call(session=session, schedule=schedule, layer="primary",
                            at=datetime(2026, 3, 30, 7, 30, tzinfo=UTC))
    assert before.everyone != after.everyone


def test_second_apply_changes_nothing(session, fake_oncall, make_user):
    admin = make_user("admin")
    first = apply_plan(session=session, plan=_plan(fake_oncall), actor=admin)
    assert first.total_created > 0
    second = apply_plan(session=session, plan=_plan(fake_oncall), actor=admin)
    assert (second.total_created, second.total_updated) == (0, 0)
    assert second.unchanged["rotations"] == 6 and second.unchanged["overrides"] == 1
    imported = session.scalars(select(User).where(User.email.like("grafana-user-%"))).all()
    assert len(imported) == 7 and all(u.password_hash == "!imported" for u in imported)
    assert session.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.action == "oncall.import_apply")) >= 2


def test_dry_run_writes_nothing(session, fake_oncall, make_user):
    admin = make_user("admin")

    def counts():
        return [session.scalar(select(func.count()).select_from(t)) for t in
                (User, Schedule, LayeredRotation, ImportMapping, AuditEntry)]
    before = counts()
    result = preview(session=session, plan=_plan(fake_oncall), actor=admin)
    assert result.created["users"] == 7 and result.created["schedules"] == 2
    assert counts() == before


def test_existing_account_is_matched_by_email(session, fake_oncall, make_user):
    plan = _plan(fake_oncall)
    mine = make_user("oncall", email=plan.users[0].email)
    result = apply_plan(session=session, plan=plan, actor=None)
    assert result.created["users"] == 6 and result.unchanged["users"] == 1
    assert session.get(User, mine.id).password_hash != "!imported"


@pytest.mark.parametrize("url, token, message", [
    ("http://10.0.0.7", TOKEN, "publicly reachable"),
    ("ftp://oncall.example.com", TOKEN, "http(s) URL"),
    ("https://user:pw@oncall.example.com", TOKEN, "without credentials"),
    ("https://oncall.example.com", "bad token\r\nX: y", "API token"),
])
def test_hostile_sources_are_refused(url, token, message):
    with pytest.raises(OnCallImportError, match=message.replace("(", r"\(").replace(")", r"\)")):
        read_oncall(base_url=url, token=token)


def test_wrong_token_reads_as_refused(fake_oncall):
    with pytest.raises(OnCallImportError, match="refused the API token"):
        read_oncall(base_url=fake_oncall.url, token="not-the-token", allowlist=LOOPBACK)
