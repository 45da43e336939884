"""The monthly job builds one SLA report per tenant and month however often it runs, and
the SLA reports page serves them to the tenant's viewers and to staff only."""
import csv
import io

import pytest
from sqlalchemy import func, select

from portal.db import utcnow
from portal.tenants import schedules, tasks
from portal.tenants.sla_report_models import SlaReport
from tests.unit.tenants.sla_rows import last_month, record_month


@pytest.fixture
def store(app, tmp_path):
    """Report files go to a folder for these tests (the embedded default)."""
    app.config["OBJECT_STORE_DIR"] = str(tmp_path / "objects")
    return tmp_path / "objects"


def _count(session, tenant_id=None):
    stmt = select(func.count()).select_from(SlaReport)
    if tenant_id is not None:
        stmt = stmt.where(SlaReport.tenant_id == tenant_id)
    return session.scalar(stmt)


def test_running_the_job_twice_makes_one_report_per_tenant(app, session, store, make_tenant):
    month = last_month()
    record_month(session, month, good=9_985, total=10_000)
    first, second = make_tenant(plan="growth"), make_tenant(plan="enterprise")
    first_run = tasks.build_sla_reports(f"{month:%Y-%m}")
    assert first_run["built"] == 2 and first_run["failed"] == 0
    assert tasks.build_sla_reports(f"{month:%Y-%m}") == {
        "built": 0, "skipped": 2, "failed": 0, "mailed": 0}
    assert _count(session, first.id) == 1 and _count(session, second.id) == 1
    report = session.scalar(select(SlaReport).where(SlaReport.tenant_id == second.id))
    assert report.month == month and not report.met and report.credit_cents == 24_975
    assert (store / "meridian-reports" / report.pdf_key).read_bytes().startswith(b"%PDF")


def test_the_job_refuses_a_malformed_month(app):
    with pytest.raises(ValueError, match="2026-11"):
        tasks.build_sla_reports("2026-13")


def test_the_monthly_job_is_on_the_beat_for_the_first():
    entry = tasks.BEAT_SCHEDULE["tenants-monthly-sla-reports"]
    assert entry["task"] == tasks.build_sla_reports.name
    assert entry["schedule"].day_of_month == {1}


def test_tenant_viewer_sees_and_downloads_own_reports(app, session, client, store, login_as,
                                                      make_tenant):
    month = last_month()
    record_month(session, month, good=10_000, total=10_000)
    tenant = make_tenant(plan="starter")
    tasks.build_sla_reports(f"{month:%Y-%m}")
    report = session.scalar(select(SlaReport).where(SlaReport.tenant_id == tenant.id))
    login_as("tenant_viewer", tenant=tenant)
    page = client.get(f"/tenants/{tenant.slug}/sla")
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    html = page.get_data(as_text=True)
    assert f"{month:%B %Y}" in html and "100.000%" in html and "met" in html
    pdf = client.get(f"/tenants/{tenant.slug}/sla/{report.id}.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    assert pdf.headers["Cache-Control"] == "no-store"
    assert f"sla-{month:%Y-%m}.pdf" in pdf.headers["Content-Disposition"]
    body = client.get(f"/tenants/{tenant.slug}/sla/{report.id}.csv")
    assert body.mimetype == "text/csv" and body.headers["Cache-Control"] == "no-store"
    assert next(csv.DictReader(io.StringIO(body.get_data(as_text=True))))["met"] == "yes"


def test_another_tenant_gets_404_for_page_and_files(app, session, client, store, login_as,
                                                    make_tenant):
    month = last_month()
    record_month(session, month, good=10_000, total=10_000)
    theirs, ours = make_tenant(), make_tenant()
    tasks.build_sla_reports(f"{month:%Y-%m}")
    report = session.scalar(select(SlaReport).where(SlaReport.tenant_id == theirs.id))
    login_as("tenant_viewer", tenant=ours)
    assert client.get(f"/tenants/{theirs.slug}/sla").status_code == 404
    assert client.get(f"/tenants/{theirs.slug}/sla/{report.id}.pdf").status_code == 404
    # their report id under our own slug is not ours either
    assert client.get(f"/tenants/{ours.slug}/sla/{report.id}.csv").status_code == 404
    assert client.get(f"/tenants/{ours.slug}/sla/{10**30}.pdf").status_code == 404
    assert client.get(f"/tenants/{ours.slug}/sla/{report.id}.exe").status_code == 404


@pytest.mark.parametrize("role", ["manager", "developer", "oncall"])
def test_internal_staff_may_open_any_tenants_page(client, login_as, make_tenant, role):
    tenant = make_tenant()
    login_as(role)
    response = client.get(f"/tenants/{tenant.slug}/sla")
    assert response.status_code == 200 and "No SLA reports yet" in response.get_data(
        as_text=True)


def test_reports_are_mailed_only_to_tenants_with_recipients(app, session, store, make_tenant):
    # With SMTP unset nothing is mailed and nothing is marked as mailed.
    month = last_month()
    tenant = make_tenant()
    schedules.create(session=session, tenant_id=tenant.id, kind="orders", fmt="csv",
                     cadence="monthly", email="ops@example.com", created_by=None, now=utcnow())
    assert tasks.build_sla_reports(f"{month:%Y-%m}")["mailed"] == 0
    assert session.scalar(select(SlaReport.emailed_at).where(
        SlaReport.tenant_id == tenant.id)) is None
