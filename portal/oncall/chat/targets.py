"""Each team's chat target: validated when a manager sets it, looked up for every page."""
from __future__ import annotations

import re
from dataclasses import replace

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.catalog.models import Team
from portal.db import utcnow
from portal.oncall.chat import delivery
from portal.oncall.chat.common import PLATFORM_NAMES, test_text
from portal.oncall.chat.models import PLATFORMS, ChatMessage, ChatTarget
from portal.oncall.chat.settings import ChatConfig
from portal.oncall.models import Page
from portal.security import outbound

SLACK_CHANNEL = re.compile(r"^(#?[a-z0-9][a-z0-9._-]{0,79}|[CGD][A-Z0-9]{6,20})$")
MATTERMOST_CHANNEL = re.compile(r"^[a-z0-9]{26}$")


class TargetInvalid(ValueError):
    """A chat target that cannot work; the message says how to fix it."""


def team_by_slug(*, session: Session, slug: str) -> Team | None:
    return session.scalar(select(Team).where(Team.slug == slug))


def for_team(*, session: Session, team_id: int | None) -> ChatTarget | None:
    if team_id is None:
        return None
    return session.scalar(select(ChatTarget).where(ChatTarget.team_id == team_id))


def for_page(*, session: Session, page: Page) -> ChatTarget | None:
    """The chat of the team whose schedule the page was paged from."""
    schedule = page.schedule
    return for_team(session=session, team_id=schedule.team_id if schedule else None)


def all_by_team(*, session: Session) -> dict[int, ChatTarget]:
    return {t.team_id: t for t in session.scalars(select(ChatTarget))}


def check(*, platform: str, target: str, config: ChatConfig) -> str:
    """The cleaned target for `platform`, or TargetInvalid saying what is wrong."""
    target = (target or "").strip()
    if platform not in PLATFORMS:
        raise TargetInvalid("Choose Slack, Mattermost, Microsoft Teams or Discord.")
    name = PLATFORM_NAMES[platform]
    if platform not in config.available():
        raise TargetInvalid(f"{name} is not configured on this portal; an admin sets its "
                            "credentials first.")
    if platform == "slack" and not SLACK_CHANNEL.match(target):
        raise TargetInvalid("Give the Slack channel's id (C…) or its name (#team-oncall).")
    if platform == "mattermost" and not MATTERMOST_CHANNEL.match(target):
        raise TargetInvalid("Give the Mattermost channel id (26 letters and digits, shown "
                            "under the channel's 'View Info').")
    if platform in ("teams", "discord"):
        fallback = config.teams_webhook_url if platform == "teams" else \
            config.discord_webhook_url
        if not target and not fallback:
            raise TargetInvalid(f"Give the {name} webhook URL: this portal has no "
                                "portal-wide one.")
        if target:
            try:
                outbound.vet(target, allowlist=config.allowed_hosts)
            except outbound.OutboundError as exc:
                raise TargetInvalid(f"The webhook URL {exc}.") from exc
            if platform == "discord" and "/api/webhooks/" not in target:
                raise TargetInvalid("A Discord webhook URL contains /api/webhooks/.")
    return target


def set_target(*, session: Session, team: Team, platform: str, target: str,
               incident_channels: bool, by: str, config: ChatConfig) -> ChatTarget | None:
    """Set (or with an empty platform, remove) a team's chat target."""
    existing = for_team(session=session, team_id=team.id)
    if not platform:
        if existing is not None:
            session.delete(existing)
            session.flush()
        return None
    cleaned = check(platform=platform, target=target, config=config)
    row = existing or ChatTarget(team_id=team.id)
    row.platform, row.target, row.incident_channels = platform, cleaned, bool(incident_channels)
    row.updated_at, row.updated_by = utcnow(), by
    session.add(row)
    session.flush()
    return row


def send_test(*, session: Session, target: ChatTarget, by: str,
              config: ChatConfig) -> ChatMessage:
    """Post a test message now (in the request) and return it with its result."""
    message = ChatMessage(team_id=target.team_id, platform=target.platform,
                          target=target.target, purpose="test", next_attempt_at=utcnow(),
                          payload={"text": test_text(team_name=target.team.name, by=by)})
    session.add(message)
    session.flush()
    # One attempt only: the person is waiting and sees the result (a retry is a click).
    delivery.deliver(session=session, message=message, now=utcnow(),
                     config=replace(config, max_attempts=1))
    session.flush()
    return message


def recent(*, session: Session, limit: int = 20) -> list[ChatMessage]:
    return list(session.scalars(select(ChatMessage).order_by(ChatMessage.id.desc())
                                .limit(limit)))
