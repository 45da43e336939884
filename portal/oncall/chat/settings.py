"""Settings of chat (added to the on-call domain's SETTINGS) and the config they make.

Every credential is unset by default: a platform without its credentials is simply not
offered, and an inbound endpoint whose secret is unset refuses every call (503), so no
default secret can ever be accepted. Production also refuses known example secrets
(portal.security.production checks every *_TOKEN and *_SECRET).
"""
from __future__ import annotations

from dataclasses import dataclass

from pydantic import Field

from portal.config import EnvSettings, OptionalText


class ChatSettings(EnvSettings):
    """Chat platforms' APIs, credentials and delivery."""
    ONCALL_CHAT_SLACK_API_URL: str = Field("https://slack.com/api", description=(
        "Base URL of Slack's Web API (chat.postMessage, chat.update, users.info, "
        "conversations.create)."))
    ONCALL_CHAT_SLACK_BOT_TOKEN: OptionalText = Field(None, description=(
        "Slack bot token (xoxb-…, scopes chat:write, users:read, users:read.email, "
        "channels:manage). Unset: Slack is not offered as a team's chat."))
    ONCALL_CHAT_SLACK_SIGNING_SECRET: OptionalText = Field(None, description=(
        "Slack app signing secret that /oncall/chat/slack/interactions checks (v0 HMAC, 5-minute "
        "window). Unset: Slack buttons are refused (503)."))
    ONCALL_CHAT_MATTERMOST_URL: OptionalText = Field(None, description=(
        "Mattermost server URL (REST API v4 under /api/v4). Unset: Mattermost is not offered."))
    ONCALL_CHAT_MATTERMOST_BOT_TOKEN: OptionalText = Field(None, description=(
        "Mattermost bot access token the portal posts and looks users up with."))
    ONCALL_CHAT_MATTERMOST_ACTION_SECRET: OptionalText = Field(None, description=(
        "Key the portal signs Mattermost button contexts with (and checks on "
        "/oncall/chat/mattermost/actions). Unset: Mattermost buttons are refused (503)."))
    ONCALL_CHAT_MATTERMOST_COMMAND_TOKEN: OptionalText = Field(None, description=(
        "Token of the Mattermost slash command (`/meridian ack <page>`) posting to "
        "/oncall/chat/mattermost/command. Unset: the command is refused (503)."))
    ONCALL_CHAT_TEAMS_WEBHOOK_URL: OptionalText = Field(None, description=(
        "Microsoft Teams Workflows incoming-webhook URL for teams whose chat target names no "
        "webhook of its own. Cards carry signed acknowledge/resolve links."))
    ONCALL_CHAT_DISCORD_WEBHOOK_URL: OptionalText = Field(None, description=(
        "Discord webhook URL for teams whose chat target names no webhook of its own. Embeds "
        "carry signed acknowledge/resolve links."))
    ONCALL_CHAT_MAX_ATTEMPTS: int = Field(5, description=(
        "Attempts per chat message before it is marked failed (shown on the page and the "
        "incident)."))
    ONCALL_CHAT_TIMEOUT: float = Field(5.0, description="Seconds per chat API call.")



@dataclass(frozen=True)
class ChatConfig:
    """What delivery and the inbound endpoints need from the app config."""
    secret_key: str
    link_base: str
    slack_api_url: str = "https://slack.com/api"
    slack_bot_token: str | None = None
    slack_signing_secret: str | None = None
    mattermost_url: str | None = None
    mattermost_bot_token: str | None = None
    mattermost_action_secret: str | None = None
    mattermost_command_token: str | None = None
    teams_webhook_url: str | None = None
    discord_webhook_url: str | None = None
    max_attempts: int = 5
    timeout: float = 5.0
    allowed_hosts: tuple[str, ...] = ()

    @classmethod
    def from_config(cls, config) -> ChatConfig:
        def get(name):
            return config.get(f"ONCALL_CHAT_{name}")
        return cls(
            secret_key=config["SECRET_KEY"], link_base=config["PUBLIC_BASE_URL"].rstrip("/"),
            slack_api_url=(get("SLACK_API_URL") or "https://slack.com/api").rstrip("/"),
            slack_bot_token=get("SLACK_BOT_TOKEN"),
            slack_signing_secret=get("SLACK_SIGNING_SECRET"),
            mattermost_url=(get("MATTERMOST_URL") or "").rstrip("/") or None,
            mattermost_bot_token=get("MATTERMOST_BOT_TOKEN"),
            mattermost_action_secret=get("MATTERMOST_ACTION_SECRET"),
            mattermost_command_token=get("MATTERMOST_COMMAND_TOKEN"),
            teams_webhook_url=get("TEAMS_WEBHOOK_URL"),
            discord_webhook_url=get("DISCORD_WEBHOOK_URL"),
            max_attempts=get("MAX_ATTEMPTS") or 5, timeout=get("TIMEOUT") or 5.0,
            allowed_hosts=tuple(config.get("OUTBOUND_ALLOWED_HOSTS") or ()))

    def available(self) -> list[str]:
        """The platforms whose credentials are configured (a team can only pick these;
        Teams and Discord also work with a per-team webhook URL)."""
        return [name for name, on in (
            ("slack", self.slack_bot_token),
            ("mattermost", self.mattermost_url and self.mattermost_bot_token),
            ("teams", True), ("discord", True)) if on]
