"""Creating or importing an SLO enqueues the backfill of its history, after the commit and
only when Prometheus is configured; a failed form enqueues nothing."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.slo import backfill
from portal.slo.models import Slo
from tests.unit.slo.factories import make_service, make_slo


@pytest.fixture
def sent(monkeypatch):
    ids: list[int] = []
    monkeypatch.setattr(backfill, "send", ids.append)
    return ids


def test_import_schedules_each_imported_slo(app, client, login_as, session, sent):
    app.config["PROMETHEUS_URL"] = "http://127.0.0.1:9"
    existing = make_slo(session, make_service(session), objective="99")
    session.commit()
    login_as("manager")
    exported = client.get("/slo/openslo.yaml").get_data(as_text=True)
    assert client.post_form("/slo/import", {"document": exported}).status_code == 303
    assert existing.id in sent
    assert set(sent) == set(session.scalars(select(Slo.id)))


def test_invalid_form_schedules_nothing(app, client, login_as, session, sent):
    app.config["PROMETHEUS_URL"] = "http://127.0.0.1:9"
    svc = make_service(session)
    session.commit()
    login_as("developer")
    response = client.post_form("/slo/new", {
        "service": svc.slug, "name": "x", "sli_kind": "ratio", "objective": "100",
        "window_days": "30", "good_query": "a_total", "total_query": "b_total"})
    assert response.status_code == 422 and sent == []
