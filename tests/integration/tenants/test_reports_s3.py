"""Reports for real: a Celery worker on RabbitMQ builds them from PostgreSQL into moto's
S3 server (or, for the embedded default, a folder); downloads go through the portal's
signed link to a pre-signed URL.

moto does not check pre-signed signatures or expiry, so expiry and tenant
scoping are asserted on what the portal signs and on its own link checks.
"""
import csv
import io
import re
import time
from datetime import timedelta
from urllib.parse import parse_qs, urlparse

import pytest
import requests
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Message
from sqlalchemy import select

from portal.db import utcnow
from portal.extensions import db
from portal.integrations import folder_store
from portal.integrations.s3 import S3Client, S3Unavailable
from portal.tenants import schedules
from portal.tenants.models import Report
from tests.integration.tenants import servers
from tests.integration.tenants.conftest import add_order, today_noon
from tests.unit.tenants import pdfs

pytestmark = pytest.mark.integration


def _wait_done(client, slug, report_id) -> str:
    for _ in range(300):
        html = client.htmx("GET", f"/tenants/{slug}/reports/{report_id}").get_data(as_text=True)
        if 'data-status="succeeded"' in html or 'data-status="failed"' in html:
            return html
        time.sleep(0.1)
    raise AssertionError("report did not finish")


def _request(client, slug, **fields) -> int:
    day = utcnow().date()
    data = {"kind": "orders", "fmt": "csv", "date_from": str(day - timedelta(days=3)),
            "date_to": str(day), "warehouse": "", **fields}
    assert client.post_form(f"/tenants/{slug}/reports", data).status_code == 303
    html = client.get(f"/tenants/{slug}/reports").get_data(as_text=True)
    return int(re.search(r'id="report-(\d+)"', html).group(1))


def _download_href(row_html: str) -> str:
    return re.search(r'href="([^"]+/download\?token=[^"]+)"', row_html).group(1).replace("&amp;", "&")


def test_csv_report_built_by_the_worker_downloads_through_a_presigned_url(
        live, worker, tenant_with_viewer, monkeypatch):
    app, _ = live
    tenant, client = tenant_with_viewer()
    other, other_client = tenant_with_viewer()
    with app.app_context(), db.session_scope() as session:
        ids = {add_order(session, tenant.id, created=today_noon() + timedelta(minutes=i),
                         status="fulfilled", fulfilled_after=timedelta(seconds=60))
               for i in range(25)}
        add_order(session, other.id, created=today_noon(), status="pending")
    report_id = _request(client, tenant.slug)
    row = _wait_done(client, tenant.slug, report_id)
    assert 'data-status="succeeded"' in row and "25 rows" in row
    href = _download_href(row)
    redirect = client.get(href)
    assert redirect.status_code == 302
    signed = urlparse(redirect.headers["Location"])
    query = parse_qs(signed.query)
    assert signed.path.startswith(f"/meridian-reports/tenants/{tenant.id}/reports/{report_id}/")
    assert query["X-Amz-Expires"] == [str(app.config["TENANTS_S3_URL_SECONDS"])]
    assert "X-Amz-Signature" in query
    body = requests.get(redirect.headers["Location"], timeout=10)
    rows = list(csv.DictReader(io.StringIO(body.text)))
    assert {r["order_id"] for r in rows} == ids
    assert {r["status"] for r in rows} == {"fulfilled"} and rows[0]["warehouse"] == "newark"
    # another tenant's viewer, holding the genuine link, gets nothing
    assert other_client.get(href).status_code == 404
    assert other_client.get(href.replace(tenant.slug, other.slug)).status_code == 404
    # the same link after its lifetime is refused by the portal
    monkeypatch.setitem(app.config, "TENANTS_DOWNLOAD_LINK_SECONDS", -1)
    assert client.get(href).status_code == 410


def test_pdf_report_stops_at_the_row_limit(live, worker, tenant_with_viewer, monkeypatch):
    app, _ = live
    tenant, client = tenant_with_viewer()
    with app.app_context(), db.session_scope() as session:
        for i in range(5):
            add_order(session, tenant.id, created=today_noon() + timedelta(minutes=i))
    monkeypatch.setitem(app.config, "TENANTS_PDF_MAX_ROWS", 3)
    report_id = _request(client, tenant.slug, fmt="pdf")
    row = _wait_done(client, tenant.slug, report_id)
    assert "3 rows" in row and "use CSV for all" in row
    location = client.get(_download_href(row)).headers["Location"]
    assert requests.get(location, timeout=10).content.startswith(b"%PDF")


def test_pdf_report_reads_whole_for_whoever_it_is_forwarded_to(live, worker,
                                                               tenant_with_viewer, tmp_path):
    """Real orders, built by the worker, read back with pdftotext and pdftoppm."""
    app, _ = live
    tenant, client = tenant_with_viewer()
    with app.app_context(), db.session_scope() as session:
        ids = [add_order(session, tenant.id, created=today_noon() + timedelta(minutes=i),
                         status="fulfilled" if i % 2 else "pending", units=5,
                         warehouse="reno" if i < 3 else "newark") for i in range(8)]
    report_id = _request(client, tenant.slug, fmt="pdf")
    row = _wait_done(client, tenant.slug, report_id)
    assert 'data-status="succeeded"' in row and "8 rows" in row
    location = client.get(_download_href(row)).headers["Location"]
    pdf = requests.get(location, timeout=10).content
    text = pdfs.text(pdf, tmp_path)
    day = utcnow().date()
    assert tenant.name in text and "Orders report" in text
    assert f"Period {day - timedelta(days=3):%Y-%m-%d} to {day:%Y-%m-%d}" in text
    summary = " ".join(text.split())
    assert "Orders Fulfilled Fulfilment rate Units Top warehouses 8 4 50.0% 40" in summary
    assert "newark (5), reno (3)" in summary
    assert all(len(i) == 36 and i in text for i in ids) and "Page 1 of 1" in text
    assert not pdfs.is_blank(pdfs.first_page(pdf, tmp_path))


def test_deleting_a_report_removes_its_s3_object(live, worker, tenant_with_viewer, s3_url):
    app, _ = live
    tenant, client = tenant_with_viewer()
    other, other_client = tenant_with_viewer()
    with app.app_context(), db.session_scope() as session:
        add_order(session, tenant.id, created=today_noon())
    report_id = _request(client, tenant.slug)
    assert 'data-status="succeeded"' in _wait_done(client, tenant.slug, report_id)
    with app.app_context(), db.session_scope() as session:
        key = session.get(Report, report_id).object_key
    s3 = S3Client(endpoint_url=s3_url)
    bucket = app.config["S3_REPORTS_BUCKET"]
    assert s3.read(bucket, key).startswith(b"order_id,")
    action = f"/tenants/{tenant.slug}/reports/{report_id}/delete"
    assert other_client.post_form(action).status_code == 404
    assert other_client.post_form(action.replace(tenant.slug, other.slug)).status_code == 404
    assert s3.read(bucket, key)
    assert client.post_form(action).status_code == 303
    with pytest.raises(S3Unavailable):
        s3.read(bucket, key)
    with app.app_context(), db.session_scope() as session:
        assert session.get(Report, report_id) is None


def test_embedded_default_keeps_reports_in_a_folder_behind_signed_portal_urls(
        live, worker, tenant_with_viewer, monkeypatch, tmp_path):
    """No S3 (`make run`): the same build and download, with the folder store standing in
    for S3 and the portal serving its signed URLs."""
    app, _ = live
    monkeypatch.setitem(app.config, "OBJECT_STORE_DIR", str(tmp_path))
    tenant, client = tenant_with_viewer()
    with app.app_context(), db.session_scope() as session:
        ids = {add_order(session, tenant.id, created=today_noon() + timedelta(minutes=i))
               for i in range(4)}
    report_id = _request(client, tenant.slug)
    row = _wait_done(client, tenant.slug, report_id)
    assert 'data-status="succeeded"' in row and "4 rows" in row
    (stored,) = (tmp_path / "meridian-reports" / "tenants" / str(tenant.id)).rglob("*.csv")
    assert not list(tmp_path.rglob("*.part"))  # moved into place whole
    location = client.get(_download_href(row)).headers["Location"]
    assert location.startswith("/objects/")
    # a bearer URL, like S3's: it works without the session, for its short lifetime only
    anonymous = app.test_client()
    body = anonymous.get(location)
    assert body.status_code == 200 and "no-store" in body.headers["Cache-Control"]
    assert f'filename={stored.name}' in body.headers["Content-Disposition"]
    assert {r["order_id"] for r in csv.DictReader(io.StringIO(body.get_data(as_text=True)))} == ids
    assert anonymous.get(location[:-2] + "xx").status_code == 404  # tampered
    later = utcnow() + timedelta(seconds=app.config["TENANTS_S3_URL_SECONDS"] + 5)
    monkeypatch.setattr(folder_store, "utcnow", lambda: later)
    expired = anonymous.get(location)
    assert expired.status_code == 403 and "expired" in expired.get_data(as_text=True)


def test_folder_store_refuses_keys_that_leave_their_bucket(tmp_path):
    store = folder_store.FolderStore(tmp_path, secret_key="k")
    with pytest.raises(S3Unavailable, match="escapes"):
        store.upload_stream("meridian-reports", "../other-bucket/x.csv", iter([b"x"]),
                            content_type="text/csv")
    with pytest.raises(S3Unavailable, match="escapes"):
        store.read("meridian-reports", "tenants/1/../../../etc/passwd")
    assert not (tmp_path / "other-bucket").exists()


def test_multipart_upload_streams_several_parts(s3_url):
    s3 = S3Client(endpoint_url=s3_url)
    s3.ensure_bucket("meridian-reports")
    chunk = b"x" * (1024 * 1024)
    stored = s3.upload_stream("meridian-reports", "tenants/1/reports/big.bin",
                              (chunk for _ in range(11)), content_type="text/csv")
    assert (stored.parts, stored.size) == (2, 11 * 1024 * 1024)
    assert len(s3.read("meridian-reports", "tenants/1/reports/big.bin")) == stored.size


def test_scheduled_report_is_mailed_with_a_working_link(live, worker, tenant_with_viewer,
                                                       monkeypatch):
    app, _ = live
    tenant, client = tenant_with_viewer()
    inbox = []

    class Handler(Message):
        def handle_message(self, message):
            inbox.append(message)

    port = servers.free_port()
    smtp = Controller(Handler(), hostname="127.0.0.1", port=port)
    smtp.start()
    for name, value in {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": port,
                        "SMTP_FROM": "reports@meridian.test",
                        "PUBLIC_BASE_URL": "http://portal.test"}.items():
        monkeypatch.setitem(app.config, name, value)
    try:
        with app.app_context(), db.session_scope() as session:
            schedule = schedules.create(session=session, tenant_id=tenant.id, kind="usage",
                                        fmt="csv", cadence="weekly", email="ops@t.example",
                                        created_by=None, now=utcnow())
            schedule.next_run_at = utcnow() - timedelta(minutes=1)
        celery = app.extensions["celery"]
        queued = celery.send_task("portal.tenants.tasks.run_due_schedules",
                                  queue=celery.conf.task_default_queue).get(timeout=30)
        assert queued >= 1
        for _ in range(300):
            if inbox:
                break
            time.sleep(0.1)
    finally:
        smtp.stop()
    assert inbox and inbox[0]["To"] == "ops@t.example"
    assert inbox[0]["From"] == "reports@meridian.test"
    body = inbox[0].get_payload(decode=True).decode()
    link = re.search(r"http://portal\.test(\S+)", body).group(1)
    assert client.get(link).status_code == 302
    with app.app_context(), db.session_scope() as session:
        report = session.scalar(select(Report).where(Report.tenant_id == tenant.id))
        assert report.schedule_id is not None and report.status == "succeeded"
