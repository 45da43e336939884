"""Against two real Alertmanagers named together in ALERTMANAGER_URL (not clustered with
each other, so what each holds stays visible): reads merge both without duplicates and
survive one being down (the page says the list is partial), writes go to the first that
answers; and a silence Alertmanager lost in a restart without its data is re-created by
the portal's ledger, flagged on the page and in the audit log, and suppresses again."""
import shutil
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.auth.models import AuditEntry
from portal.db import utcnow
from portal.integrations.alertmanager import (
    AlertmanagerClient,
    AlertmanagerCluster,
    AlertmanagerUnavailable,
    Matcher,
    NewSilence,
    iso,
)
from portal.oncall import silence_ledger
from portal.oncall.tasks import silence_reconcile_tick
from tests.integration.oncall.amserver import running_alertmanager
from tests.integration.oncall.test_alertmanager import state_of, wait_for
from tests.servers import closed_port, free_port

pytestmark = pytest.mark.integration


@pytest.fixture
def pair(tmp_path):
    with running_alertmanager(tmp_path / "a") as first, \
            running_alertmanager(tmp_path / "b") as second:
        yield first, second


def alert(name, **labels):
    now = utcnow()
    return {"labels": {"alertname": name, **labels}, "startsAt": iso(now),
            "endsAt": iso(now + timedelta(hours=1))}


def silence_form(name):
    return {"matchers-0-name": "alertname", "matchers-0-operator": "=",
            "matchers-0-value": name, "duration": "2",
            "comment": "planned failover of the primary"}


def test_reads_merge_members_and_dedupe_by_fingerprint_and_id(pair):
    first, second = (AlertmanagerClient(u) for u in pair)
    first.post_alerts([alert("OnlyOnFirst"), alert("OnBoth", service="search")])
    second.post_alerts([alert("OnlyOnSecond"), alert("OnBoth", service="search")])
    window = (utcnow(), utcnow() + timedelta(hours=1))
    shared = NewSilence((Matcher("alertname", "OnBoth"),), *window, "a@x", "maintenance")
    on_first = first.create_silence(shared)
    cluster = AlertmanagerCluster(list(pair))
    names = sorted(a.name for a in cluster.list_alerts())
    assert names == ["OnBoth", "OnlyOnFirst", "OnlyOnSecond"]
    assert cluster.list_alerts().unreachable == ()
    assert [s.id for s in cluster.list_silences()].count(on_first) == 1
    assert on_first not in {s.id for s in second.list_silences()}

    written = cluster.create_silence(NewSilence((Matcher("alertname", "OnlyOnSecond"),),
                                                *window, "a@x", "written to the first"))
    assert written in {s.id for s in first.list_silences()}
    assert written not in {s.id for s in second.list_silences()}


def test_alert_board_shows_an_alert_both_members_hold_once(app, client, login_as, pair):
    for url in pair:
        AlertmanagerClient(url).post_alerts([alert("TwiceHeld", service="billing-ha",
                                                   severity="critical")])
    app.config["ALERTMANAGER_URL"] = ",".join(pair)
    login_as("oncall")
    board = client.htmx("GET", "/oncall/alerts").get_data(as_text=True)
    assert board.count("TwiceHeld") >= 1
    group = board[board.index('data-service="billing-ha"'):]
    assert group[:group.index("</article>")].count("<tr data-fingerprint") == 1


def test_one_member_down_gives_a_flagged_partial_result(pair):
    down = f"http://127.0.0.1:{closed_port()}"
    cluster = AlertmanagerCluster([down, pair[1]], timeout=1, retries=0)
    AlertmanagerClient(pair[1]).post_alerts([alert("StillSeen")])
    seen = cluster.list_alerts()
    assert [a.name for a in seen] == ["StillSeen"] and seen.unreachable == (down,)
    window = (utcnow(), utcnow() + timedelta(hours=1))
    made = cluster.create_silence(NewSilence((Matcher("alertname", "StillSeen"),), *window,
                                             "a@x", "first member is down"))
    assert made in {s.id for s in AlertmanagerClient(pair[1]).list_silences()}
    with pytest.raises(AlertmanagerUnavailable):
        AlertmanagerCluster([down], timeout=1, retries=0).list_silences()


def test_silences_page_flags_a_partial_list(app, client, login_as, pair):
    down = f"http://127.0.0.1:{closed_port()}"
    app.config["ALERTMANAGER_URL"] = f"{pair[0]}, {down}"
    login_as("oncall")
    response = client.get("/oncall/silences/")
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'id="silences-partial"' in body and down in body


def test_lost_silence_is_recreated_after_a_restart_without_data(app, client, login_as,
                                                                session, tmp_path):
    port = free_port()
    workdir = tmp_path / "am"
    with running_alertmanager(workdir, port) as url:
        app.config["ALERTMANAGER_URL"] = url
        user = login_as("oncall")
        am = AlertmanagerClient(url)
        am.post_alerts([alert("PrimaryFailover", service="orders")])
        assert client.post_form("/oncall/silences/",
                                silence_form("PrimaryFailover")).status_code == 303
        [entry] = session.scalars(select(silence_ledger.LedgerSilence)).all()
        lost_id = entry.silence_id
        wait_for(lambda: state_of(am, "PrimaryFailover").state == "suppressed")
    shutil.rmtree(workdir / "data")
    with running_alertmanager(workdir, port) as url:
        am = AlertmanagerClient(url)
        assert am.list_silences() == []
        am.post_alerts([alert("PrimaryFailover", service="orders")])
        wait_for(lambda: state_of(am, "PrimaryFailover").state == "active")

        assert silence_reconcile_tick.apply().get()["recreated"] == 1
        session.expire_all()
        entry = session.scalars(select(silence_ledger.LedgerSilence)).one()
        assert entry.recreated_from == lost_id and entry.silence_id != lost_id
        back = am.get_silence(entry.silence_id)
        assert back.created_by == user.email and back.comment.startswith("planned failover")
        wait_for(lambda: state_of(am, "PrimaryFailover").state == "suppressed")
        audit = session.scalars(select(AuditEntry).where(
            AuditEntry.action == "oncall.silence_recreate")).one()
        assert audit.target_id == entry.silence_id and audit.details["lost_id"] == lost_id

        body = client.get("/oncall/silences/").get_data(as_text=True)
        active = body[body.index('id="silences-active"'):]
        row = active[active.index(f'data-silence="{entry.silence_id}"'):]
        assert "re-created after Alertmanager lost it" in row[:row.index("</tr>")]
        assert silence_reconcile_tick.apply().get()["recreated"] == 0  # not twice
        entry.ends_at = utcnow() - silence_ledger.KEEP_ENDED - timedelta(minutes=1)
        session.commit()
        silence_reconcile_tick.apply().get()
        assert session.scalars(select(silence_ledger.LedgerSilence)).all() == []


def test_page_load_recreates_and_an_expired_silence_stays_expired(app, client, login_as,
                                                                  session, tmp_path):
    port = free_port()
    workdir = tmp_path / "am"
    with running_alertmanager(workdir, port) as url:
        app.config["ALERTMANAGER_URL"] = url
        login_as("oncall")
        for name in ("KeepMe", "EndMe"):
            assert client.post_form("/oncall/silences/", silence_form(name)).status_code == 303
        ended = session.scalars(select(silence_ledger.LedgerSilence).where(
            silence_ledger.LedgerSilence.matchers[0]["value"].astext == "EndMe")).one()
        assert client.post_form(f"/oncall/silences/{ended.silence_id}/expire").status_code \
            == 303
    shutil.rmtree(workdir / "data")
    with running_alertmanager(workdir, port) as url:
        body = client.get("/oncall/silences/").get_data(as_text=True)
        assert "1 silence(s) re-created after Alertmanager lost it" in body
        [back] = AlertmanagerClient(url).list_silences()
        assert back.matchers == (Matcher("alertname", "KeepMe"),)
