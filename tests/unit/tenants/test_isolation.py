"""Tenant A asking for anything of tenant B gets 404: dashboards, fragments, reports,
downloads (by B's ids under either slug, and with B's genuine signed token)."""
from datetime import date

import pytest

from portal.db import utcnow
from portal.tenants import reports
from portal.tenants.models import Report, ReportSchedule


@pytest.fixture
def world(session, make_tenant, rollup):
    a, b = make_tenant(), make_tenant()
    rollup(b, low_sku="SECRET-SKU-B")
    report = Report(tenant_id=b.id, kind="orders", fmt="csv", date_from=date(2026, 11, 1),
                    date_to=date(2026, 11, 2), status="succeeded", rows_written=1)
    session.add(report)
    session.flush()
    report.object_key = reports.object_key(report)
    schedule = ReportSchedule(tenant_id=b.id, kind="orders", fmt="csv", cadence="weekly",
                              email="b@b.example", next_run_at=utcnow())
    session.add(schedule)
    session.commit()
    return {"a": a, "b": b, "report": report, "schedule": schedule,
            "token": reports.download_token(report)}


GETS = ["/tenants/{b}/dashboard", "/tenants/{b}/dashboard?from=2026-11-01&to=2026-11-02",
        "/tenants/{b}/reports", "/tenants/{b}/reports/{r}", "/tenants/{a}/reports/{r}",
        "/tenants/{b}/reports/{r}/download?token={token}",
        "/tenants/{a}/reports/{r}/download?token={token}",
        "/tenants/{bid}/dashboard", "/tenants/{bname}/dashboard"]
POSTS = ["/tenants/{b}/reports", "/tenants/{b}/schedules",
         "/tenants/{b}/schedules/{s}/delete", "/tenants/{a}/schedules/{s}/delete"]


def _url(template, w):
    return template.format(a=w["a"].slug, b=w["b"].slug, r=w["report"].id, s=w["schedule"].id,
                           token=w["token"], bid=w["b"].id, bname=w["b"].name)


@pytest.mark.parametrize("template", GETS)
@pytest.mark.parametrize("htmx", [False, True])
def test_tenant_a_gets_404_for_every_read_of_tenant_b(template, htmx, client, login_as, world):
    login_as("tenant_viewer", tenant=world["a"])
    url = _url(template, world)
    response = client.htmx("GET", url) if htmx else client.get(url)
    assert response.status_code == 404
    assert "SECRET-SKU-B" not in response.get_data(as_text=True)


@pytest.mark.parametrize("template", POSTS)
def test_tenant_a_gets_404_for_every_change_to_tenant_b(template, client, login_as, world,
                                                        session, sent):
    login_as("tenant_viewer", tenant=world["a"])
    response = client.post_form(_url(template, world), {
        "kind": "orders", "fmt": "csv", "date_from": "2026-11-01", "date_to": "2026-11-02",
        "cadence": "weekly", "email": "a@a.example"})
    assert response.status_code == 404
    assert sent == []
    assert session.get(ReportSchedule, world["schedule"].id) is not None


def test_own_download_redirects_while_b_token_under_own_slug_does_not(client, login_as, world,
                                                                      session, monkeypatch):
    mine = Report(tenant_id=world["a"].id, kind="usage", fmt="csv", date_from=date(2026, 11, 1),
                  date_to=date(2026, 11, 2), status="succeeded", rows_written=1)
    session.add(mine)
    session.flush()
    mine.object_key = reports.object_key(mine)
    session.commit()
    monkeypatch.setattr(reports, "presigned_url",
                        lambda report, **kw: f"https://s3.test/{report.object_key}")
    login_as("tenant_viewer", tenant=world["a"])
    ok = client.get(f"/tenants/{world['a'].slug}/reports/{mine.id}/download"
                    f"?token={reports.download_token(mine)}")
    assert ok.status_code == 302 and f"tenants/{world['a'].id}/reports/" in ok.headers["Location"]
    forged = client.get(f"/tenants/{world['a'].slug}/reports/{mine.id}/download"
                        f"?token={world['token']}")
    assert forged.status_code == 404
