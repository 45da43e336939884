"""Fixtures for chat: the local fake platforms, a team with a schedule whose primary is
Olivia Oncall, the app configured for the fakes, and helpers to declare and deliver."""
from __future__ import annotations

import pytest

from portal.incidents import receivers as incident_receivers  # noqa: F401  (connects them)
from portal.incidents import service as incidents
from portal.oncall import paging
from portal.oncall import receivers as oncall_receivers  # noqa: F401  (connects them)
from portal.oncall.chat import delivery
from portal.oncall.chat.models import ChatTarget
from portal.oncall.chat.settings import ChatConfig
from tests.unit.oncall.chat import fakes

SIGNING_SECRET = "slack-signing-secret-for-tests"
ACTION_SECRET = "mattermost-action-secret-for-tests"
COMMAND_TOKEN = "mattermost-command-token-for-tests"
MM_CHANNEL = "c" * 26
MM_OLIVIA = "u" * 26


@pytest.fixture(autouse=True)
def sent_after_commit(monkeypatch):
    """The ids handed to Celery after a commit (no worker runs in unit tests)."""
    ids: list[int] = []
    monkeypatch.setattr(delivery, "send", ids.extend)
    return ids


def _fake(route, **attrs):
    fake, server = fakes.serve(route, **attrs)
    fake.url = server.url
    return fake, server


@pytest.fixture
def slack_fake():
    fake, server = _fake(fakes.slack_route, people={})
    yield fake
    server.stop()


@pytest.fixture
def mattermost_fake():
    fake, server = _fake(fakes.mattermost_route, people={})
    yield fake
    server.stop()


@pytest.fixture
def webhook_fakes():
    teams, teams_server = _fake(fakes.teams_route)
    discord, discord_server = _fake(fakes.discord_route)
    yield teams, discord
    teams_server.stop()
    discord_server.stop()


@pytest.fixture
def chat_app(app, slack_fake, mattermost_fake):
    app.config.update(
        ONCALL_CHAT_SLACK_API_URL=slack_fake.url + "/api",
        ONCALL_CHAT_SLACK_BOT_TOKEN=fakes.SLACK_TOKEN,
        ONCALL_CHAT_SLACK_SIGNING_SECRET=SIGNING_SECRET,
        ONCALL_CHAT_MATTERMOST_URL=mattermost_fake.url,
        ONCALL_CHAT_MATTERMOST_BOT_TOKEN=fakes.MATTERMOST_TOKEN,
        ONCALL_CHAT_MATTERMOST_ACTION_SECRET=ACTION_SECRET,
        ONCALL_CHAT_MATTERMOST_COMMAND_TOKEN=COMMAND_TOKEN,
        ONCALL_CHAT_MAX_ATTEMPTS=3, PUBLIC_BASE_URL="http://portal.test")
    return app


@pytest.fixture
def olivia(session, make_user):
    user = make_user("oncall", email="olivia@meridian.example")
    user.name = "Olivia Oncall"
    session.commit()
    return user


@pytest.fixture
def team_setup(session, olivia, make_schedule, seed_policies, team_with_service):
    team, svc = team_with_service
    make_schedule([olivia], slug="chat-sched", team=team)
    return team, svc


def set_target(session, team, platform, target, incident_channels=False):
    row = ChatTarget(team_id=team.id, platform=platform, target=target,
                     incident_channels=incident_channels)
    session.add(row)
    session.flush()
    return row


def declare(session, svc, severity="sev2", title="Checkout failing"):
    """Declare an incident (which pages Olivia) and commit, as a request would."""
    incident = incidents.declare(session=session, title=title, severity=severity,
                                 actor_email=None, service_slugs=[svc.slug])
    session.commit()
    return incident, paging.open_page_for_incident(session=session, incident_id=incident.id)


def deliver(session, app, **kwargs) -> int:
    tried = delivery.deliver_due(session=session, config=ChatConfig.from_config(app.config),
                                 **kwargs)
    session.commit()
    return tried
