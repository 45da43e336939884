"""One alert intake: a webhook delivery stores each alert once (on-call's table, which the
incidents domain links and reads), and a new page's first notification is handed to the
worker when the delivery's transaction commits, not left for the paging tick."""
import json

import pytest
from sqlalchemy import select, text

from portal.incidents import receivers as incident_receivers  # noqa: F401  (connects them)
from portal.incidents import service as incidents
from portal.oncall import notify, paging, tasks
from portal.oncall import receivers as oncall_receivers  # noqa: F401  (connects them)
from portal.oncall.models import ReceivedAlert
from tests.httpserver import LocalHTTPServer, QuietHandler

TOKEN = "intake-token"


@pytest.fixture
def setup(session, make_user, make_schedule, seed_policies, team_with_service):
    team, svc = team_with_service
    primary = make_user("oncall")
    make_schedule([primary], slug="intake-sched", team=team)
    return primary, svc


@pytest.fixture
def deliver(app, client, setup):
    app.config["ALERTMANAGER_WEBHOOK_TOKEN"] = TOKEN
    _, svc = setup

    def post(*fingerprint_severity):
        body = {"version": "4", "groupKey": "g", "status": "firing", "receiver": "portal",
                "alerts": [{"status": "firing", "fingerprint": fp,
                            "labels": {"alertname": f"Orders{fp}", "severity": severity,
                                       "service": svc.slug},
                            "annotations": {"summary": "orders failing"},
                            "startsAt": "2026-11-21T07:00:00Z"}
                           for fp, severity in fingerprint_severity]}
        response = client.post("/oncall/alertmanager/webhook", data=json.dumps(body),
                               content_type="application/json",
                               headers={"Authorization": f"Bearer {TOKEN}"})
        assert response.status_code == 200, response.get_data(as_text=True)
    return post


@pytest.fixture
def chat_server():
    received = []

    class Handler(QuietHandler):
        def do_POST(self):
            received.append(self.json_body())
            self.reply(200)

    with LocalHTTPServer(Handler) as server:
        yield f"{server.url}/hooks/oncall", received


@pytest.fixture
def dispatched(monkeypatch):
    """The page ids handed to Celery after a commit (no worker runs in unit tests)."""
    ids: list[int] = []
    monkeypatch.setattr(notify, "dispatch", ids.extend)
    return ids


def test_a_delivery_stores_each_alert_once_in_the_table_incidents_link(
        session, deliver, client, login_as):
    deliver(("c1", "critical"), ("w1", "warning"), ("c1", "critical"))
    holders = session.scalars(text(
        "SELECT table_name FROM information_schema.columns WHERE column_name = 'fingerprint'"
        " AND table_schema = current_schema()")).all()
    copies = {table: session.scalar(text(
        f"SELECT count(*) FROM {table} WHERE fingerprint IN ('c1', 'w1')")) for table in holders}
    assert {t: n for t, n in copies.items() if n} == {"oncall_alerts": 2}
    [incident] = incidents.list_incidents(session=session)
    rows = session.scalars(select(ReceivedAlert).where(
        ReceivedAlert.fingerprint.in_(["c1", "w1"]))).all()
    assert {r.fingerprint: r.incident_id for r in rows} == {"c1": incident.id, "w1": None}
    # The incident page and the waiting list read that same row; declaring from the
    # waiting alert links it in place.
    login_as("oncall")
    assert "<code>Ordersc1</code> (firing)" in client.get(
        f"/incidents/{incident.id}").get_data(as_text=True)
    assert "/incidents/alerts/w1/declare" in client.get("/incidents/").get_data(as_text=True)
    answer = client.post_form("/incidents/alerts/w1/declare", {"severity": "sev3"})
    assert answer.status_code == 303
    declared = session.scalar(select(ReceivedAlert).where(ReceivedAlert.fingerprint == "w1")
                              .execution_options(populate_existing=True))
    assert declared.incident_id not in (None, incident.id)


def test_first_notification_is_dispatched_at_commit_and_sent_once(
        app, session, deliver, chat_server, dispatched):
    url, received = chat_server
    app.config["ONCALL_NOTIFY_WEBHOOK_URL"] = url
    deliver(("p1", "critical"))
    [incident] = incidents.list_incidents(session=session)
    page = paging.open_page_for_incident(session=session, incident_id=incident.id)
    assert dispatched == [page.id]  # handed over when the webhook's transaction committed
    assert received == []  # nothing is sent inside the request
    assert tasks.send_first_notifications(dispatched) == {"notifications": 1}
    assert len(received) == 1 and "Ordersp1" in received[0]["text"]
    # The paging tick that follows finds nothing left to send for the first step.
    assert tasks.paging_tick()["notifications"] == 0
    assert len(received) == 1
    [note] = notify.for_page(session=session, page=page)
    session.refresh(note)
    assert (note.status, note.attempts) == ("sent", 1)
    assert dispatched == [page.id]  # the tick's own commits hand nothing over
