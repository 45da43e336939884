"""Importing Grafana OnCall from Terraform files: references resolved, people from data
sources, what needs Terraform itself reported, and hostile files refused."""
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from portal.oncall import service
from portal.oncall.importing.apply import apply_plan
from portal.oncall.importing.oncall_terraform import TerraformError, plan_from_terraform
from portal.oncall.models import Schedule

FIXTURE = Path(__file__).parent / "fixtures" / "oncall.tf"
BERLIN = ZoneInfo("Europe/Berlin")


def _plan():
    return plan_from_terraform([("oncall.tf", FIXTURE.read_bytes())],
                               email_domain="tf-import.example")


def test_terraform_plan_resolves_references():
    plan = _plan()
    assert {u.email for u in plan.users} == {"alex@tf-import.example", "bea@tf-import.example"}
    [schedule] = plan.schedules
    [rotation] = schedule.rotations
    assert rotation.participants == (("data.grafana_oncall_user.alex",),
                                     ("data.grafana_oncall_user.bea",))
    assert rotation.windows[0].weekdays == (0, 1, 2, 3, 4)
    assert len(schedule.overrides) == 1
    assert plan.chains[0].steps[0].targets == ("grafana_oncall_schedule.primary",)
    assert {r.matcher for r in plan.routes} == {"", "severity=critical"}
    reasons = {u.external_id: u.reason for u in plan.unmapped}
    assert "var.start" in reasons["grafana_oncall_on_call_shift.templated"]


def test_terraform_import_applies_and_answers_on_call(session, make_user):
    result = apply_plan(session=session, plan=_plan(), actor=make_user("admin"))
    assert result.created["schedules"] == 1
    schedule = session.query(Schedule).filter_by(name="TF primary").one()

    def who(*local):
        shift = service.on_call(session=session, schedule=schedule, layer="primary",
                                at=datetime(*local, tzinfo=BERLIN).astimezone(UTC))
        return shift and shift.who.email
    assert who(2026, 3, 3, 10) == "alex@tf-import.example"
    assert who(2026, 3, 3, 18) is None
    assert who(2026, 3, 4, 13) == "bea@tf-import.example"  # the override
    assert who(2026, 3, 10, 10) == "bea@tf-import.example"
    again = apply_plan(session=session, plan=_plan(), actor=None)
    assert (again.total_created, again.total_updated) == (0, 0)


@pytest.mark.parametrize("name, data, message", [
    ("a.tf", b"resource \"x\" {\x00}", "NUL"),
    ("a.tf", b"resource {{{", "not valid HCL"),
    ("a.txt", b"", "not a .tf file"),
    ("a.tf", b"#" * 600_000, "larger than 500 kB"),
    ("a.tf", b"\xff\xfe", "not UTF-8"),
])
def test_hostile_files_are_refused(name, data, message):
    with pytest.raises(TerraformError, match=message):
        plan_from_terraform([(name, data)])
