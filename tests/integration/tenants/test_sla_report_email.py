"""The monthly SLA job e-mails each report, PDF and CSV attached, to the tenant's report
recipients through the portal's SMTP client, received here by a real aiosmtpd server;
a second run sends nothing more."""
from __future__ import annotations

import csv
import email
import io
from email import policy

import pytest
from aiosmtpd.controller import Controller

from portal.db import utcnow
from portal.tenants import schedules, tasks
from tests.servers import free_port
from tests.unit.tenants import pdfs
from tests.unit.tenants.sla_rows import last_month, record_month


class Inbox:
    """aiosmtpd handler keeping every message it is given."""

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.rcpt_tos, email.message_from_bytes(
            envelope.content, policy=policy.default)))
        return "250 OK"


@pytest.fixture
def inbox(app, tmp_path):
    handler, port = Inbox(), free_port()
    smtp = Controller(handler, hostname="127.0.0.1", port=port)
    smtp.start()
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=port, SMTP_FROM="sla@meridian.test",
                      OBJECT_STORE_DIR=str(tmp_path / "objects"))
    yield handler.messages
    smtp.stop()


def test_sla_report_is_mailed_once_to_the_report_recipients(app, session, inbox, make_tenant,
                                                            tmp_path):
    month = last_month()
    record_month(session, month, good=9_950, total=10_000)
    tenant = make_tenant(slug="northwind-goods", plan="growth")
    make_tenant()  # no report schedules: no recipients, no e-mail
    for address in ("ops@northwind.example", "cfo@northwind.example", "ops@northwind.example"):
        schedules.create(session=session, tenant_id=tenant.id, kind="orders", fmt="csv",
                         cadence="monthly", email=address, created_by=None, now=utcnow())
    session.commit()

    result = tasks.build_sla_reports(f"{month:%Y-%m}")
    assert result["built"] >= 2 and result["mailed"] == 1
    assert len(inbox) == 1
    recipients, message = inbox[0]
    assert sorted(recipients) == ["cfo@northwind.example", "ops@northwind.example"]
    assert message["From"] == "sla@meridian.test"
    assert message["Subject"] == f"Northwind Goods: SLA report {month:%B %Y} (missed)"
    body = message.get_body(("plain",)).get_content()
    assert f"/tenants/{tenant.slug}/sla" in body
    files = {part.get_filename(): part.get_content() for part in message.iter_attachments()}
    assert set(files) == {f"sla-{month:%Y-%m}.pdf", f"sla-{month:%Y-%m}.csv"}
    text = pdfs.text(files[f"sla-{month:%Y-%m}.pdf"], tmp_path)
    assert "SLA report: Northwind Goods" in text and "99.500%" in text
    row = next(csv.DictReader(io.StringIO(files[f"sla-{month:%Y-%m}.csv"])))
    assert row["tenant"] == "Northwind Goods" and row["credit_percent"] == "10"

    assert tasks.build_sla_reports(f"{month:%Y-%m}")["mailed"] == 0
    assert len(inbox) == 1
