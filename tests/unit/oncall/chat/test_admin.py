"""The managers' chat page: set a team's target (CSRF, audited, validated with a clear
message), send a test message and see the result; other roles are refused. Hypothesis
throws arbitrary input at the form: a 303 or a 400 with a message, never a 500."""
from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from portal.auth.models import AuditEntry
from portal.oncall.chat import targets
from tests.unit.oncall.chat.conftest import MM_CHANNEL

PREFIX = "oncall-test-team-"


def form(platform, target, incident=False):
    data = {PREFIX + "platform": platform, PREFIX + "target": target}
    if incident:
        data[PREFIX + "incident_channels"] = "y"
    return data


def test_manager_sets_a_target_sends_a_test_and_sees_the_result(
        session, chat_app, client, login_as, team_with_service, slack_fake):
    team, _ = team_with_service
    login_as("manager")
    assert client.get("/oncall/chat/").status_code == 200
    url = f"/oncall/chat/teams/{team.slug}"
    bad = client.post_form(url, form("mattermost", "#not-an-id"))
    assert bad.status_code == 400 and "Mattermost channel id" in bad.get_data(as_text=True)
    assert client.post(url, data=form("slack", "#team")).status_code == 400  # no CSRF token
    response = client.post_form(url, form("slack", "#team-oncall", incident=True))
    assert response.status_code == 303
    row = targets.for_team(session=session, team_id=team.id)
    assert (row.platform, row.target, row.incident_channels) == ("slack", "#team-oncall", True)
    audit = session.scalar(select(AuditEntry).where(AuditEntry.action ==
                                                    "oncall.chat_target_set"))
    assert audit.target_id == team.slug and audit.details["platform"] == "slack"

    html = client.htmx("POST", f"/oncall/chat/teams/{team.slug}/test").get_data(as_text=True)
    assert "badge ok" in html and "reached Slack" in html
    [post] = slack_fake.calls("chat.postMessage")
    assert post["body"]["channel"] == "#team-oncall" and "Test message" in post["body"]["text"]
    slack_fake.fail_next = 1
    html = client.htmx("POST", f"/oncall/chat/teams/{team.slug}/test").get_data(as_text=True)
    assert "badge bad" in html and "HTTP 500" in html
    tests = session.scalars(select(AuditEntry).where(AuditEntry.action == "oncall.chat_test")
                            .order_by(AuditEntry.id)).all()
    assert [t.outcome for t in tests] == ["success", "failure"]

    assert client.post_form(url, form("", "")).status_code == 303  # removed
    assert targets.for_team(session=session, team_id=team.id) is None


def test_only_managers_configure_chat(chat_app, client, login_as, team_with_service):
    team, _ = team_with_service
    login_as("oncall")
    assert client.get("/oncall/chat/").status_code == 403
    assert client.post_form(f"/oncall/chat/teams/{team.slug}",
                            form("mattermost", MM_CHANNEL)).status_code == 403


@settings(max_examples=15, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(platform=st.sampled_from(["", "slack", "mattermost", "teams", "discord", "irc"]),
       target=st.text(max_size=600), incident=st.booleans())
def test_property_target_form_never_500(chat_app, client, login_as, team_with_service,
                                        platform, target, incident):
    if client.get("/oncall/chat/").status_code != 200:
        login_as("manager")
    response = client.post_form(f"/oncall/chat/teams/{team_with_service[0].slug}",
                                form(platform, target, incident))
    assert response.status_code in (303, 400), response.get_data(as_text=True)[:300]
