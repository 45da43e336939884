"""The home's firing alerts, silences ending today and MTTR trend come from one statement
(`now.glance`): each list must hold what its own ORM query gives, and the page must show
new rows on the next view (the memo lives one request)."""
from __future__ import annotations

import re
import uuid
from datetime import timedelta

from sqlalchemy import case, func, select

from portal.db import utcnow
from portal.home import now as home_now
from portal.incidents import metrics
from portal.incidents.models import Incident
from portal.oncall.models import ReceivedAlert
from portal.oncall.silence_ledger import LedgerSilence
from tests.seeded_demo import counting

NOW = utcnow()


def _alert(session, name, severity, minutes_ago, service="order", status="firing"):
    session.add(ReceivedAlert(
        fingerprint=f"{name}-{uuid.uuid4().hex[:8]}", status=status, severity=severity,
        service=service, labels={"alertname": name}, annotations={},
        starts_at=NOW - timedelta(minutes=minutes_ago), last_received_at=NOW))


def _silence(session, comment, ends_in, expired=False):
    session.add(LedgerSilence(
        silence_id=uuid.uuid4().hex, matchers=[], starts_at=NOW - timedelta(hours=1),
        ends_at=NOW + ends_in, created_by="ops@meridian.example", comment=comment,
        expired_at=NOW if expired else None))


def _expected_alerts(session, slugs):
    # What the home's own query used to read (most severe, then newest, first).
    where = [ReceivedAlert.status == "firing"]
    if slugs is not None:
        where.append(ReceivedAlert.service.in_(slugs))
    severe = case((ReceivedAlert.severity.in_(("critical", "page")), 0),
                  (ReceivedAlert.severity == "warning", 1), else_=2)
    rows = session.execute(select(ReceivedAlert, func.count().over()).where(*where)
                           .order_by(severe, ReceivedAlert.starts_at.desc())
                           .limit(home_now.LIMIT)).all()
    return ([(a.fingerprint, a.severity, a.labels, a.service, a.starts_at) for a, _ in rows],
            rows[0][1] if rows else 0)


def test_one_statement_matches_the_lists_it_replaced(session, make_user):
    manager = make_user("manager", "oncall")
    for i, severity in enumerate(["warning", "critical", None, "page", "info", "warning",
                                  "critical"]):
        _alert(session, f"a{i}", severity, 10 * i + 1, service="order" if i % 2 else "search")
    _alert(session, "resolved", "critical", 3, status="resolved")
    _silence(session, "ends soon", timedelta(hours=2))
    _silence(session, "ends first", timedelta(minutes=30))
    _silence(session, "ends tomorrow evening", timedelta(hours=30))
    _silence(session, "expired by hand", timedelta(hours=1), expired=True)
    for days, minutes in ((3, 45), (40, 130), (41, 20)):
        opened = NOW - timedelta(days=days)
        session.add(Incident(title=f"past {days}", severity="sev2", status="resolved",
                             opened_at=opened, resolved_at=opened + timedelta(minutes=minutes)))
    session.add(Incident(title="still open", severity="sev3", status="acknowledged",
                         opened_at=NOW - timedelta(days=2)))
    session.commit()

    for slugs in (None, ["order"], ["order", "search"], ["nothing-here"]):
        with counting(session.connection()) as seen:
            found = home_now._read_glance(session, manager, slugs, NOW)
        assert len(seen) == 1
        items, total = _expected_alerts(session, slugs)
        assert [(a.fingerprint, a.severity, a.labels, a.service, a.starts_at)
                for a in found.alerts.items] == items
        assert found.alerts.total == total
    assert found.alerts.total == 0

    found = home_now._read_glance(session, manager, None, NOW)
    assert found.alerts.total == 7 and len(found.alerts.items) == home_now.LIMIT
    assert [(s.comment, s.ends_at) for s in found.silences] == [
        ("ends first", NOW + timedelta(minutes=30)), ("ends soon", NOW + timedelta(hours=2))]
    expected = metrics.by_month(session=session, since=metrics.since_months(6, NOW))
    assert expected and [(m.key, m.count, m.mttr_min) for m in found.trend] == [
        (r.key, r.count, r.mttr_min) for r in expected]
    assert all(isinstance(m.mttr_min, float) or m.mttr_min is None for m in found.trend)


def test_a_viewer_without_the_manager_role_reads_no_trend(session, make_user):
    oncall = make_user("oncall")
    opened = NOW - timedelta(days=3)
    session.add(Incident(title="past", severity="sev2", status="resolved", opened_at=opened,
                         resolved_at=opened + timedelta(minutes=30)))
    session.commit()
    assert home_now._read_glance(session, oncall, None, NOW).trend == []


def test_new_alerts_silences_and_incidents_show_on_the_next_view(client, session, login_as):
    login_as("manager", "oncall")
    month = NOW.strftime("%Y-%m")
    page = client.get("/").get_data(as_text=True)
    assert "brand-new-alert" not in page and "brand new silence" not in page
    before = _incidents_in_trend(page, month)
    _alert(session, "brand-new-alert", "critical", 1)
    _silence(session, "brand new silence", timedelta(hours=1))
    opened = NOW - timedelta(minutes=200)
    session.add(Incident(title="resolved today", severity="sev2", status="resolved",
                         opened_at=opened, resolved_at=opened + timedelta(minutes=90)))
    session.commit()
    page = client.get("/").get_data(as_text=True)
    assert "brand-new-alert" in page and "brand new silence" in page
    assert _incidents_in_trend(page, month) == before + 1


def _incidents_in_trend(page: str, month: str) -> int:
    found = re.search(rf"{month} · (\d+) incident", page)
    return int(found.group(1)) if found else 0
