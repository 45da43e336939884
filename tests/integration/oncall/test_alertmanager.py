"""Against a real Alertmanager started by the tests: alerts show in the portal grouped by
service and severity, a silence created in the portal suppresses the alert in Alertmanager,
expiring it from the portal un-suppresses it, the node-over-pod inhibition rule works, and the
production config passes `amtool check-config`."""
import subprocess
import time
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal import events
from portal.auth.models import AuditEntry
from portal.db import utcnow
from portal.integrations.alertmanager import AlertmanagerClient, Matcher, iso
from portal.oncall import alerts
from tests.integration.oncall.amserver import PRODUCTION_CONFIG

pytestmark = pytest.mark.integration


@pytest.fixture
def am(alertmanager_url):
    return AlertmanagerClient(alertmanager_url, timeout=3)


@pytest.fixture
def portal(app, client, login_as, alertmanager_url):
    app.config["ALERTMANAGER_URL"] = alertmanager_url
    return login_as("oncall")


def push(am, name, **labels):
    now = utcnow()
    am.post_alerts([{"labels": {"alertname": name, **labels},
                     "annotations": {"summary": f"{name} is firing"},
                     "startsAt": iso(now), "endsAt": iso(now + timedelta(hours=1))}])


def state_of(am, name):
    [alert] = am.list_alerts((Matcher("alertname", name),))
    return alert


def wait_for(check, timeout=10.0):
    """Alertmanager applies silences and inhibitions asynchronously: poll until true."""
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.1)


def test_production_config_passes_amtool():
    result = subprocess.run(["amtool", "check-config", str(PRODUCTION_CONFIG)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 inhibit rules" in result.stdout


def test_alerts_show_grouped_by_service_and_severity(am, portal, client):
    push(am, "OrderLatencyHigh", service="order-service", severity="critical")
    push(am, "OrderQueueBacklog", service="order-service", severity="warning")
    body = client.htmx("GET", "/oncall/alerts").get_data(as_text=True)
    assert 'data-service="order-service" data-severity="critical"' in body
    assert 'data-service="order-service" data-severity="warning"' in body
    assert body.index('data-severity="critical"') < body.index('data-severity="warning"')
    assert "OrderLatencyHigh" in body and "Alertmanager is unreachable" not in body


def test_big_groups_show_a_few_rows_and_a_show_all_link_kept_while_polling(am, portal,
                                                                          client):
    for i in range(7):
        push(am, f"CapAlert{i}", service="zz-capped-service", severity="info")
    body = client.htmx("GET", "/oncall/alerts").get_data(as_text=True)
    group = body[body.index('data-service="zz-capped-service"'):]
    group = group[:group.index("</article>")]
    assert group.count("<tr data-fingerprint") == alerts.GROUP_ROWS == 5
    assert "CapAlert4" in group and "CapAlert5" not in group and "Show all 7 (2 more)" in group
    expanded = client.htmx("GET", "/oncall/alerts",
                           query_string={"open": "zz-capped-service/info"}).get_data(as_text=True)
    group = expanded[expanded.index('data-service="zz-capped-service"'):]
    assert group[:group.index("</article>")].count("<tr data-fingerprint") == 7
    poll_url = expanded[expanded.index('hx-get="'):].split('"')[1]
    assert "open=zz-capped-service/info" in poll_url.replace("%2F", "/")


def test_silence_preview_create_and_expire_through_the_portal(am, portal, client, session):
    push(am, "SearchIndexLag", service="search-service", severity="warning")
    push(am, "SearchIndexLagOther", service="billing-service", severity="warning")
    board = client.htmx("GET", "/oncall/alerts").get_data(as_text=True)
    assert "SearchIndexLag" in board and 'data-state="silenced"' not in board  # now cached
    changes = []
    events.silence_changed.connect(receiver := lambda sender, **kw: changes.append(kw))
    form = {"matchers-0-name": "alertname", "matchers-0-operator": "=",
            "matchers-0-value": "SearchIndexLag", "matchers-1-name": "service",
            "matchers-1-operator": "=~", "matchers-1-value": "search-.*",
            "duration": "1", "comment": "reindex running, see runbook", "incident_id": "12"}
    preview = client.htmx("GET", "/oncall/silences/preview", query_string=form)
    text = preview.get_data(as_text=True)
    assert "<strong>1</strong> current alert(s)" in text and "SearchIndexLagOther" not in text

    assert client.post_form("/oncall/silences/", form).status_code == 303
    silence_id = session.scalars(select(AuditEntry.target_id).where(
        AuditEntry.action == "oncall.silence_create")).one()
    wait_for(lambda: state_of(am, "SearchIndexLag").state == "suppressed")
    assert state_of(am, "SearchIndexLag").silenced_by == (silence_id,)
    assert state_of(am, "SearchIndexLagOther").state == "active"
    created = am.get_silence(silence_id)
    assert created.created_by == portal.email and created.comment.startswith("reindex")
    assert "silenced" in client.htmx("GET", "/oncall/alerts").get_data(as_text=True)

    assert client.post_form(f"/oncall/silences/{silence_id}/expire").status_code == 303
    wait_for(lambda: state_of(am, "SearchIndexLag").state == "active")
    assert am.get_silence(silence_id).state == "expired"
    listing = client.get("/oncall/silences/").get_data(as_text=True)
    assert f'data-silence="{silence_id}"' in listing and "Re-create" in listing
    again = client.get(f"/oncall/silences/new?from={silence_id}").get_data(as_text=True)
    assert 'value="SearchIndexLag"' in again and "reindex running" in again
    assert [(c["action"], c["incident_id"]) for c in changes] == [("created", 12),
                                                                  ("expired", None)]
    assert session.scalars(select(AuditEntry).where(
        AuditEntry.action == "oncall.silence_expire")).one().target_id == silence_id
    events.silence_changed.disconnect(receiver)


@pytest.mark.parametrize("form, message", [
    ({}, "Add at least one matcher"),
    ({"matchers-0-name": "alertname", "matchers-0-operator": "=~", "matchers-0-value": ".*"},
     "would silence every alert"),
    ({"matchers-0-name": "alertname", "matchers-0-value": "X", "duration": "",
      "ends_at": "2099-01-01T00:00"}, "at most 72 hours"),
])
def test_portal_refuses_bad_silences_with_a_clear_message(am, portal, client, form, message):
    before = len(am.list_silences())
    response = client.post_form("/oncall/silences/", {
        "duration": "2", "comment": "a long enough justification", **form})
    assert response.status_code == 422 and message in response.get_data(as_text=True)
    assert len(am.list_silences()) == before


def test_node_alert_inhibits_pod_alerts_on_the_same_node(am):
    push(am, "PodCrashLooping", scope="pod", node="node-7", severity="warning")
    push(am, "PodCrashLoopingElsewhere", scope="pod", node="node-8", severity="warning")
    push(am, "NodeNotReady", scope="node", node="node-7", severity="critical")
    wait_for(lambda: state_of(am, "PodCrashLooping").inhibited_by != ())
    assert state_of(am, "PodCrashLoopingElsewhere").state == "active"
    assert state_of(am, "NodeNotReady").state == "active"
