"""Deleting a report: its row and its file go, audited; only its own tenant (or staff who
manage reports) can, with a CSRF token and a confirmation the page asks for."""
from datetime import date

import pytest
from sqlalchemy import select

from portal.auth.models import AuditEntry
from portal.integrations.folder_store import FolderStore
from portal.tenants import reports
from portal.tenants.models import Report


@pytest.fixture
def store(app, tmp_path, monkeypatch):
    """The folder object store (the embedded default), in a folder of this test."""
    monkeypatch.setitem(app.config, "OBJECT_STORE_DIR", str(tmp_path))
    return FolderStore(tmp_path, secret_key=app.config["SECRET_KEY"])


def _stored(session, store, bucket, tenant, *, status="succeeded") -> Report:
    report = Report(tenant_id=tenant.id, kind="orders", fmt="pdf", date_from=date(2026, 11, 1),
                    date_to=date(2026, 11, 7), status=status, rows_written=3)
    session.add(report)
    session.flush()
    if status == "succeeded":
        report.object_key = reports.object_key(report)
        store.upload_stream(bucket, report.object_key, iter([b"%PDF-1.4 test"]),
                            content_type="application/pdf")
    session.commit()
    return report


def _gone(session, report_id) -> bool:
    session.expire_all()
    return session.get(Report, report_id) is None


def test_viewer_deletes_a_report_its_file_and_is_audited(app, client, login_as, make_tenant,
                                                         session, store):
    bucket = app.config["S3_REPORTS_BUCKET"]
    tenant = make_tenant()
    report = _stored(session, store, bucket, tenant)
    key, path, report_id = report.object_key, store.path(bucket, report.object_key), report.id
    assert path.exists()
    login_as("tenant_viewer", tenant=tenant)
    page = client.get(f"/tenants/{tenant.slug}/reports").get_data(as_text=True)
    action = f"/tenants/{tenant.slug}/reports/{report.id}/delete"
    assert f'action="{action}"' in page and 'data-confirm="Delete the orders report' in page
    assert "onsubmit" not in page
    assert client.post(action).status_code == 400  # no CSRF token
    assert not _gone(session, report.id) and path.exists()
    response = client.post_form(action)
    assert response.status_code == 303 and response.headers["Location"].endswith(
        f"/tenants/{tenant.slug}/reports")
    assert _gone(session, report.id) and not path.exists()
    audit = session.scalar(select(AuditEntry).where(AuditEntry.action == "tenants.report_deleted"))
    assert audit.target_id == str(report_id) and audit.tenant_id == tenant.id
    assert audit.details["object_key"] == key
    assert client.post_form(action).status_code == 404  # already gone


def test_another_tenants_report_is_a_404_and_stays(app, client, login_as, make_tenant, session,
                                                  store):
    bucket = app.config["S3_REPORTS_BUCKET"]
    mine, theirs = make_tenant(), make_tenant()
    their_report = _stored(session, store, bucket, theirs)
    path = store.path(bucket, their_report.object_key)
    login_as("tenant_viewer", tenant=mine)
    for slug in (mine.slug, theirs.slug):
        assert client.post_form(
            f"/tenants/{slug}/reports/{their_report.id}/delete").status_code == 404
    assert not _gone(session, their_report.id)
    assert path.exists()


def test_staff_who_manage_reports_may_delete_others_may_not(app, client, login_as, make_tenant,
                                                            session, store):
    bucket = app.config["S3_REPORTS_BUCKET"]
    tenant = make_tenant()
    first, second = _stored(session, store, bucket, tenant), _stored(session, store, bucket, tenant)
    login_as("developer")
    assert client.post_form(
        f"/tenants/{tenant.slug}/reports/{first.id}/delete").status_code == 403
    assert not _gone(session, first.id)
    login_as("manager")
    assert client.post_form(
        f"/tenants/{tenant.slug}/reports/{second.id}/delete").status_code == 303
    assert _gone(session, second.id) and not _gone(session, first.id)


def test_a_report_still_building_is_not_deleted(app, client, login_as, make_tenant, session,
                                                store):
    tenant = make_tenant()
    building = _stored(session, store, app.config["S3_REPORTS_BUCKET"], tenant, status="running")
    login_as("tenant_viewer", tenant=tenant)
    page = client.get(f"/tenants/{tenant.slug}/reports").get_data(as_text=True)
    assert f"/reports/{building.id}/delete" not in page
    response = client.post_form(f"/tenants/{tenant.slug}/reports/{building.id}/delete")
    assert response.status_code == 409 and "still building" in response.get_data(as_text=True)
    assert not _gone(session, building.id)
