"""Asking for reports, bad input, signed download links, schedules and archiving."""
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from portal.auth.models import AuditEntry
from portal.db import utcnow
from portal.tenants import reports, schedules
from portal.tenants.models import Report, ReportSchedule


def _form(**overrides):
    today = utcnow().date()
    return {"kind": "orders", "fmt": "csv", "date_from": str(today - timedelta(days=6)),
            "date_to": str(today), "warehouse": "", **overrides}


def test_request_queues_a_report_and_sends_it_after_commit(client, login_as, make_tenant,
                                                          session, sent):
    tenant = make_tenant()
    login_as("tenant_viewer", tenant=tenant)
    response = client.post_form(f"/tenants/{tenant.slug}/reports", _form())
    assert response.status_code == 303
    report = session.scalar(select(Report).where(Report.tenant_id == tenant.id))
    assert (report.kind, report.fmt, report.status) == ("orders", "csv", "queued")
    assert sent == [report.id]
    audit = session.scalar(select(AuditEntry).where(AuditEntry.action == "tenants.report_requested"))
    assert audit.target_id == str(report.id) and audit.tenant_id == tenant.id
    page = client.get(f"/tenants/{tenant.slug}/reports").get_data(as_text=True)
    assert f'id="report-{report.id}"' in page and 'hx-trigger="every 1s"' in page


@pytest.mark.parametrize("overrides,field_message", [
    ({"kind": "payroll"}, "Choose one of"),
    ({"fmt": "xlsx"}, "Choose CSV or PDF"),
    ({"date_from": "2026-11-20", "date_to": "2026-11-01"}, "before the start date"),
    ({"date_from": "2020-01-01", "date_to": "2026-11-01"}, "at most 366 days"),
    ({"date_from": "not-a-date"}, "Not a valid date"),
    ({"warehouse": "../../etc"}, "Choose one of this tenant&#39;s warehouses"),
    ({"warehouse": "reno"}, "Choose one of this tenant&#39;s warehouses"),  # another's
])
def test_bad_report_requests_are_422_with_field_messages(overrides, field_message, client,
                                                         login_as, make_tenant, session, sent):
    tenant = make_tenant()
    login_as("tenant_viewer", tenant=tenant)
    response = client.post_form(f"/tenants/{tenant.slug}/reports", _form(**overrides))
    assert response.status_code == 422
    assert field_message in response.get_data(as_text=True)
    assert session.scalars(select(Report).where(Report.tenant_id == tenant.id)).all() == []
    assert sent == []


def _finished(session, tenant, **fields) -> Report:
    report = Report(tenant_id=tenant.id, kind="orders", fmt="csv", date_from=date(2026, 11, 1),
                    date_to=date(2026, 11, 7), status="succeeded", rows_written=3, **fields)
    session.add(report)
    session.flush()
    report.object_key = reports.object_key(report)
    session.commit()
    return report


def test_download_tokens_expire_and_name_one_tenant_and_report(app, session, make_tenant):
    a, b = make_tenant(), make_tenant()
    mine, theirs = _finished(session, a), _finished(session, b)
    token = reports.download_token(mine)
    now = utcnow()
    reports.check_token(token, tenant_id=a.id, report_id=mine.id, now=now)
    lifetime = app.config["TENANTS_DOWNLOAD_LINK_SECONDS"]
    with pytest.raises(reports.LinkExpired):
        reports.check_token(token, tenant_id=a.id, report_id=mine.id,
                            now=now + timedelta(seconds=lifetime + 2))
    for tenant_id, report_id in [(b.id, mine.id), (a.id, theirs.id), (b.id, theirs.id)]:
        with pytest.raises(reports.LinkInvalid):
            reports.check_token(token, tenant_id=tenant_id, report_id=report_id, now=now)
    with pytest.raises(reports.LinkInvalid):
        reports.check_token(token[:-2] + "xx", tenant_id=a.id, report_id=mine.id, now=now)
    emailed = reports.download_token(mine, emailed=True)
    reports.check_token(emailed, tenant_id=a.id, report_id=mine.id,
                        now=now + timedelta(seconds=lifetime + 2))  # e-mail links live longer


def test_presigned_url_never_signs_a_key_outside_the_tenant_prefix(app, session, make_tenant):
    a = make_tenant()
    report = _finished(session, a)
    report.object_key = f"tenants/{a.id + 1}/reports/{report.id}/x.csv"
    with pytest.raises(reports.LinkInvalid):
        reports.presigned_url(report=report, s3=None, bucket="b", expires_in=60)
    assert reports.object_key(_finished(session, a)).startswith(f"tenants/{a.id}/reports/")


def test_expired_download_link_is_410(client, login_as, make_tenant, session, monkeypatch):
    tenant = make_tenant()
    report = _finished(session, tenant)
    login_as("tenant_viewer", tenant=tenant)
    monkeypatch.setitem(client.application.config, "TENANTS_DOWNLOAD_LINK_SECONDS", -1)
    url = f"/tenants/{tenant.slug}/reports/{report.id}/download?token={reports.download_token(report)}"
    response = client.get(url)
    assert response.status_code == 410 and "expired" in response.get_data(as_text=True)


def test_reports_past_retention_are_listed_as_archived(client, login_as, make_tenant, session):
    tenant = make_tenant()
    old = _finished(session, tenant)
    old.created_at = utcnow() - timedelta(days=91)
    recent = _finished(session, tenant)
    session.commit()
    current, archived = reports.list_for(session=session, tenant_id=tenant.id, now=utcnow(),
                                         retention_days=90)
    assert [r.id for r in current] == [recent.id] and [r.id for r in archived] == [old.id]
    login_as("tenant_viewer", tenant=tenant)
    html = client.get(f"/tenants/{tenant.slug}/reports").get_data(as_text=True)
    assert 'id="archived-rows"' in html and f'id="report-{old.id}"' not in html


def test_schedules_are_created_validated_and_stopped(client, login_as, make_tenant, session):
    tenant = make_tenant()
    login_as("tenant_viewer", tenant=tenant)
    bad = client.post_form(f"/tenants/{tenant.slug}/schedules",
                           {"kind": "orders", "fmt": "csv", "cadence": "daily", "email": "x"})
    assert bad.status_code == 422 and "weekly or monthly" in bad.get_data(as_text=True)
    ok = client.post_form(f"/tenants/{tenant.slug}/schedules", {
        "kind": "usage", "fmt": "pdf", "cadence": "weekly", "email": "ops@acme.example"})
    assert ok.status_code == 303
    schedule = session.scalar(select(ReportSchedule).where(ReportSchedule.tenant_id == tenant.id))
    assert schedule.next_run_at.weekday() == 0 and schedule.next_run_at.hour == 6
    gone = client.post_form(f"/tenants/{tenant.slug}/schedules/{schedule.id}/delete")
    assert gone.status_code == 303
    assert session.scalars(select(ReportSchedule).where(ReportSchedule.tenant_id == tenant.id)).all() == []


def test_schedule_periods_and_due_runs(session, make_tenant, sent):
    assert schedules.period("weekly", date(2026, 11, 23)) == (date(2026, 11, 16), date(2026, 11, 22))
    assert schedules.period("monthly", date(2026, 12, 1)) == (date(2026, 11, 1), date(2026, 11, 30))
    tenant = make_tenant()
    schedule = schedules.create(session=session, tenant_id=tenant.id, kind="orders", fmt="csv",
                                cadence="monthly", email="a@b.example", created_by=None,
                                now=utcnow())
    schedule.next_run_at = utcnow() - timedelta(minutes=1)
    queued = schedules.run_due(session=session, now=utcnow())
    session.commit()
    mine = [r for r in queued if r.tenant_id == tenant.id]
    assert len(mine) == 1 and mine[0].schedule_id == schedule.id and mine[0].id in sent
    assert schedule.next_run_at > utcnow() and schedule.next_run_at.day == 1
