"""On-call pages: permissions, the board without or with a dead Alertmanager, ack/resolve
from the portal and by signed link, overrides, notes, schedule and policy edits, feeds."""
from datetime import UTC, datetime, timedelta

import pytest
from icalendar import Calendar
from sqlalchemy import select

from portal.auth.models import AuditEntry
from portal.db import utcnow
from portal.oncall import alerts, notify, paging, service
from portal.oncall.models import Override
from tests.servers import closed_port


@pytest.fixture
def schedule(session, make_user, make_schedule, seed_policies, team_with_service):
    team, _ = team_with_service
    return make_schedule([make_user("oncall")], [make_user("oncall")], slug="views-sched",
                         team=team, start=utcnow().date() - timedelta(days=30))


def audited(session, action):
    return session.scalars(select(AuditEntry).where(AuditEntry.action == action)).all()


@pytest.mark.parametrize("roles, status", [
    (("oncall",), 200), (("manager",), 200), (("admin",), 200),
    (("developer",), 403), (("tenant_viewer",), 403)])
@pytest.mark.parametrize("url", ["/oncall/", "/oncall/alerts", "/oncall/policies",
                                 "/oncall/schedules/views-sched"])
def test_who_may_open_the_on_call_pages(client, login_as, schedule, roles, status, url):
    login_as(*roles)
    assert client.get(url).status_code == status


@pytest.mark.parametrize("url", ["/oncall/schedules/views-sched/edit", "/oncall/policies/sev1"])
def test_editing_needs_the_manager_role(client, login_as, schedule, url):
    login_as("oncall")
    assert client.get(url).status_code == 403


def test_index_shows_who_is_on_call_and_webhook_alerts_without_alertmanager(
        app, client, login_as, schedule, session):
    app.config["ALERTMANAGER_URL"] = None
    login_as("oncall")
    body = client.get("/oncall/").get_data(as_text=True)
    assert schedule.participants("primary")[0].name in body
    assert "No Alertmanager URL is configured" in body


def test_dead_alertmanager_gives_a_degraded_banner_never_a_500(app, client, login_as,
                                                               schedule):
    app.config["ALERTMANAGER_URL"] = f"http://127.0.0.1:{closed_port()}"
    app.config["ALERTMANAGER_TIMEOUT"] = 0.5
    login_as("oncall")
    for response in (client.get("/oncall/"), client.htmx("GET", "/oncall/alerts")):
        assert response.status_code == 200
        assert "Alertmanager is unreachable" in response.get_data(as_text=True)
    fragment = client.htmx("GET", "/oncall/alerts").get_data(as_text=True)
    assert fragment.lstrip().startswith('<div id="alert-board"')  # a fragment, not a page
    assert client.get("/oncall/silences/").status_code == 503


def test_last_known_state_is_shown_when_alertmanager_goes_away():
    class Flaky:
        base = "http://flaky"
        up = True

        def list_alerts(self):
            if not self.up:
                raise alerts.AlertmanagerUnavailable("connection refused")
            return [alerts.Alert("f1", {"alertname": "DiskFull", "service": "postgres",
                                        "severity": "warning"}, {}, utcnow(), None, "active")]
    flaky = Flaky()
    live = alerts.board(session=None, client=flaky)
    flaky.up = False
    stale = alerts.board(session=None, client=flaky)
    assert (live.source, live.degraded) == ("alertmanager", False)
    assert (stale.source, stale.degraded, stale.total) == ("last-known", True, 1)
    assert stale.groups[0][:2] == ("postgres", "warning")


class CountingAlertmanager:
    """Stands in for Alertmanager's alert list and counts the pulls."""
    base = "http://counting"

    def __init__(self):
        self.calls, self.up = 0, True

    def list_alerts(self):
        self.calls += 1
        if not self.up:
            raise alerts.AlertmanagerUnavailable("connection refused")
        return [alerts.Alert(f"f{self.calls}", {"alertname": f"Pull{self.calls}",
                                                "service": "search", "severity": "info"},
                             {}, utcnow(), None, "active")]


def test_the_pulled_board_is_shared_for_max_age_then_pulled_again():
    am, cache = CountingAlertmanager(), alerts.AlertCache(max_age=5)
    t0 = datetime(2026, 11, 21, 8, 0, tzinfo=UTC)
    first = alerts.board(session=None, client=am, cache=cache, now=t0)
    assert alerts.board(session=None, client=am, cache=cache, now=t0 + timedelta(seconds=4.9)
                        ) is first and am.calls == 1
    later = alerts.board(session=None, client=am, cache=cache, now=t0 + timedelta(seconds=5))
    assert am.calls == 2 and later.groups[0][2][0].name == "Pull2"
    cache.clear()  # a silence was created or expired: the next viewer pulls again
    alerts.board(session=None, client=am, cache=cache, now=t0 + timedelta(seconds=6))
    assert am.calls == 3
    am.up = False  # a dead Alertmanager is asked once per max_age, not once per viewer
    down = [alerts.board(session=None, client=am, cache=cache, now=t0 + timedelta(seconds=s))
            for s in (20, 21, 22)]
    assert am.calls == 4 and {b.source for b in down} == {"last-known"}
    assert down[0].groups[0][2][0].name == "Pull3" and down[0].degraded


def test_each_app_has_its_own_board_cache_from_its_config(app):
    from portal.oncall.am import alert_cache
    app.config["ONCALL_ALERTS_CACHE_SECONDS"] = 2.5
    assert alert_cache() is alert_cache() and alert_cache().max_age == 2.5


def make_page(session, schedule):
    return paging.start_paging(session=session, incident_id=9, severity="sev2", title="Slow",
                               service_slugs=["oncall-test-svc"], now=utcnow())


def test_ack_and_resolve_from_the_portal_are_audited(client, login_as, schedule, session):
    user = login_as("oncall")
    page = make_page(session, schedule)
    session.commit()
    response = client.post_form(f"/oncall/pages/{page.id}/ack", {"next": "/oncall/"})
    assert response.status_code == 303
    session.refresh(page)
    assert page.status == "acked" and page.acked_by_id == user.id
    again = client.post_form(f"/oncall/pages/{page.id}/ack")
    assert again.status_code == 409 and "already acked" in again.get_data(as_text=True)
    assert client.post_form(f"/oncall/pages/{page.id}/resolve").status_code == 303
    assert [e.target_id for e in audited(session, "oncall.page_ack")] == [str(page.id)]
    assert len(audited(session, "oncall.page_resolve")) == 1


def test_escalate_pages_the_next_step_now_and_names_who_asked(client, login_as, schedule,
                                                               session):
    user = login_as("oncall")
    page = make_page(session, schedule)
    session.commit()
    first = page.step
    html = client.get(f"/oncall/pages/{page.id}").get_data(as_text=True)
    assert 'data-shortcut="e"' in html
    assert client.post_form(f"/oncall/pages/{page.id}/escalate").status_code == 303
    session.refresh(page)
    assert page.step > first
    asked = [e for e in page.events if e.kind == "escalate"]
    assert asked and asked[0].user_id == user.id and user.name in asked[0].summary
    assert len(audited(session, "oncall.page_escalate")) == 1
    client.post_form(f"/oncall/pages/{page.id}/ack")
    refused = client.post_form(f"/oncall/pages/{page.id}/escalate")
    assert refused.status_code == 409 and "only a triggered page" in refused.get_data(as_text=True)


def test_signed_link_confirms_on_get_and_acts_on_post(app, client, schedule, session):
    page = make_page(session, schedule)
    session.commit()
    token = notify.action_token(app.config["SECRET_KEY"], page_id=page.id,
                                user_id=page.assignee_id)
    url = f"/oncall/pages/act/{token}"
    assert "Acknowledge" in client.get(url).get_data(as_text=True)
    session.refresh(page)
    assert page.status == "triggered"  # GET never writes
    assert client.post_form(url, {"action": "ack"}).status_code == 200
    session.refresh(page)
    assert page.status == "acked"
    [entry] = audited(session, "oncall.page_ack")
    assert entry.actor_id == page.assignee_id and entry.details["via"] == "signed link"
    assert client.get(f"/oncall/pages/act/{token}x").status_code == 403


def test_override_form_creates_an_override_and_refuses_a_backwards_period(
        client, login_as, schedule, session, make_user):
    login_as("oncall")
    cover = make_user("oncall")
    start = (utcnow() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    end = (utcnow() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    form = {"layer": "primary", "user_email": cover.email, "starts_at": start, "ends_at": end,
            "reason": "dentist"}
    bad = client.post_form("/oncall/schedules/views-sched/overrides",
                           {**form, "starts_at": end, "ends_at": start})
    assert bad.status_code == 422 and "must end after it starts" in bad.get_data(as_text=True)
    assert client.post_form("/oncall/schedules/views-sched/overrides", form).status_code == 303
    override = session.scalars(select(Override)).one()
    assert override.user_id == cover.id and audited(session, "oncall.override_create")
    tomorrow = utcnow() + timedelta(days=1, hours=1)
    assert service.on_call(session=session, schedule=schedule, layer="primary",
                           at=tomorrow).who.id == cover.id


def test_handoff_note_is_saved_and_an_empty_one_refused(client, login_as, schedule, session):
    login_as("oncall")
    empty = client.post_form("/oncall/schedules/views-sched/notes", {"body": "  "})
    assert empty.status_code == 422
    assert client.post_form("/oncall/schedules/views-sched/notes",
                            {"body": "DB failover drill on Thursday"}).status_code == 303
    assert "DB failover drill" in client.get("/oncall/schedules/views-sched").get_data(
        as_text=True)


def test_manager_edits_participants_and_time_zone(client, login_as, schedule, session,
                                                  make_user):
    login_as("manager")
    a, b = make_user("oncall"), make_user("oncall")
    form = {"timezone": "Asia/Tokyo", "handoff_weekday": "0", "handoff_time": "10:00",
            "primary": f"{a.email}\n{b.email}", "secondary": ""}
    bad = client.post_form("/oncall/schedules/views-sched/edit", {**form, "timezone": "Mars/Base"})
    assert bad.status_code == 422 and "Unknown time zone" in bad.get_data(as_text=True)
    assert client.post_form("/oncall/schedules/views-sched/edit", form).status_code == 303
    session.refresh(schedule)
    assert [u.id for u in schedule.participants("primary")] == [a.id, b.id]
    assert schedule.timezone == "Asia/Tokyo"


def test_manager_edits_a_policy_and_bad_steps_are_refused(client, login_as, schedule, session):
    login_as("manager")
    base = {"description": "down", "ack_minutes": "5",
            "steps-0-after_minutes": "0", "steps-0-target": "primary",
            "steps-1-after_minutes": "10", "steps-1-target": "secondary"}
    bad = client.post_form("/oncall/policies/sev1", {**base, "steps-1-after_minutes": "0"})
    assert bad.status_code == 422 and "strictly increase" in bad.get_data(as_text=True)
    assert client.post_form("/oncall/policies/sev1", base).status_code == 303
    policy = service.get_policy(session=session, severity="sev1")
    session.refresh(policy)
    assert [(s.after_minutes, s.target) for s in policy.steps] == [(0, "primary"),
                                                                   (10, "secondary")]


def test_calendar_feeds_need_the_secret_token(client, login_as, schedule, session):
    user = login_as("oncall")
    assert client.post_form("/oncall/feed-token").status_code == 303
    token = service.feed_token(session=session, user=user).token
    client.post_form("/logout")
    feed = client.get(f"/oncall/feeds/{token}/schedules/views-sched.ics")
    assert feed.status_code == 200 and feed.content_type.startswith("text/calendar")
    events = Calendar.from_ical(feed.data).walk("VEVENT")
    assert any("views-sched" in str(e["summary"]) for e in events)
    assert client.get(f"/oncall/feeds/{token}/me.ics").status_code == 200
    assert client.get("/oncall/feeds/not-a-token/me.ics").status_code == 404


def test_service_and_home_panels_show_who_is_on_call(client, login_as, schedule):
    login_as("oncall")
    name = schedule.participants("primary")[0].name
    assert name in client.get("/catalog/services/oncall-test-svc").get_data(as_text=True)
    home = client.get("/").get_data(as_text=True)
    assert 'id="home-oncall-panel"' in home and name in home
