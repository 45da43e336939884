"""Slack: Block Kit messages with Acknowledge / Resolve / Escalate buttons, posted and
edited with the bot token (chat.postMessage, chat.update), and the interactivity endpoint's
checks: the v0 request signature and the clicking person's e-mail (users.info).

Requests from Slack are signed with the app's signing secret: X-Slack-Signature is
`v0=` + hex HMAC-SHA256 of `v0:{X-Slack-Request-Timestamp}:{raw body}`; a timestamp more
than five minutes from now is refused so a captured request cannot be replayed.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import re
from urllib.parse import parse_qs, urlencode

from sqlalchemy.orm import Session

from portal.oncall import paging
from portal.oncall.chat import transport
from portal.oncall.chat.common import (
    ChatRefusal,
    PageView,
    incident_text,
    parse_page_id,
)
from portal.oncall.chat.models import ChatMessage
from portal.oncall.chat.settings import ChatConfig
from portal.oncall.chat.transport import ChatSendError, Posted

REPLAY_WINDOW = 300
BUTTONS = {"ack": ("Acknowledge", "primary"), "resolve": ("Resolve", None),
           "escalate": ("Escalate", "danger")}
ACTION_PREFIX = "oncall_"


class SignatureInvalid(Exception):
    """The request was not signed by Slack with our signing secret (or is too old)."""


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def api(config: ChatConfig, method: str, body: dict | None = None,
        query: dict | None = None) -> dict:
    """Call one Web API method with the bot token; Slack's `ok: false` is a failure."""
    if not config.slack_bot_token:
        raise ChatSendError("Slack is not configured (ONCALL_CHAT_SLACK_BOT_TOKEN is unset)")
    url = f"{config.slack_api_url}/{method}" + (f"?{urlencode(query)}" if query else "")
    reply = transport.call("POST" if body is not None else "GET", url, body=body,
                           headers={"Authorization": f"Bearer {config.slack_bot_token}"},
                           timeout=config.timeout, allowlist=config.allowed_hosts)
    if reply.body.get("ok") is not True:
        raise ChatSendError(f"Slack {method}: {reply.body.get('error') or 'not ok'}")
    return reply.body


def blocks(view: PageView) -> list[dict]:
    """The page as Block Kit: headline with link, state, and the buttons it still has."""
    context = f"Page #{view.page_id}"
    if view.incident_url:
        context += f" · <{view.incident_url}|incident>"
    out: list[dict] = [{"type": "section", "text": {"type": "mrkdwn", "text": (
               f"*<{view.page_url}|{_escape(view.heading)}>*\n{_escape(view.state_line)}")}},
           {"type": "context", "elements": [{"type": "mrkdwn", "text": context}]}]
    if view.actions:
        elements: list[dict] = []
        for action in view.actions:
            label, style = BUTTONS[action]
            button: dict[str, object] = {"type": "button", "action_id": ACTION_PREFIX + action,
                      "text": {"type": "plain_text", "text": label}, "value": str(view.page_id)}
            if style:
                button["style"] = style
            elements.append(button)
        out.append({"type": "actions", "block_id": f"page-{view.page_id}",
                    "elements": elements})
    return out


def can_edit(parent: ChatMessage) -> bool:
    return bool(parent.remote_id and parent.remote_channel)


def post_page(*, config: ChatConfig, target: str, view: PageView) -> Posted:
    reply = api(config, "chat.postMessage", {
        "channel": target, "text": f"{view.heading}: {view.state_line}",
        "blocks": blocks(view), "unfurl_links": False})
    return Posted(remote_id=reply.get("ts"), channel=reply.get("channel"))


def update_page(*, config: ChatConfig, parent: ChatMessage, view: PageView) -> Posted:
    api(config, "chat.update", {"channel": parent.remote_channel, "ts": parent.remote_id,
                                "text": f"{view.heading}: {view.state_line}",
                                "blocks": blocks(view)})
    return Posted()


def post_text(*, config: ChatConfig, target: str, text: str) -> Posted:
    reply = api(config, "chat.postMessage", {"channel": target, "text": text})
    return Posted(remote_id=reply.get("ts"), channel=reply.get("channel"))


def channel_name(incident_id: int, title: str) -> str:
    """A valid channel name: lower case letters, digits and dashes, at most 80."""
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")
    return f"inc-{incident_id}-{slug}"[:80].rstrip("-")


def announce_incident(*, session: Session, config: ChatConfig,
                      message: ChatMessage) -> Posted:
    """A channel of its own (conversations.create), the paged people invited, and a
    pointer to it in the team's channel. A retry after a partial failure goes on from
    the channel already created (kept on the row)."""
    assert message.incident_id is not None  # an incident's announcement names it
    payload, incident_id = message.payload, message.incident_id
    if not message.remote_channel:
        created = api(config, "conversations.create", {
            "name": channel_name(incident_id, payload.get("title", "")), "is_private": False})
        message.remote_channel = created["channel"]["id"]
        message.link = f"https://slack.com/app_redirect?channel={message.remote_channel}"
    invitees = []
    for page in paging.pages_for_incident(session=session, incident_id=incident_id):
        if page.assignee is not None and page.assignee.email not in invitees:
            invitees.append(page.assignee.email)
    ids = []
    for email in invitees:
        try:
            ids.append(api(config, "users.lookupByEmail", query={"email": email})["user"]["id"])
        except ChatSendError:
            continue  # not in this workspace: they follow the incident in the portal
    if ids:
        try:
            api(config, "conversations.invite", {"channel": message.remote_channel,
                                                 "users": ",".join(ids)})
        except ChatSendError as exc:
            if "already_in_channel" not in str(exc):
                raise
    api(config, "chat.postMessage", {
        "channel": message.remote_channel,
        "text": incident_text(config, payload, incident_id)})
    post_text(config=config, target=message.target,
              text=incident_text(config, payload, incident_id, f"<#{message.remote_channel}>"))
    return Posted(channel=message.remote_channel, link=message.link)


def verify(*, secret: str, timestamp: str | None, signature: str | None, body: bytes,
           now: float) -> None:
    """Raise SignatureInvalid unless Slack signed `body` within the replay window."""
    if not timestamp or not signature or not timestamp.isdigit():
        raise SignatureInvalid("missing signature headers")
    if abs(now - int(timestamp)) > REPLAY_WINDOW:
        raise SignatureInvalid("timestamp outside the five-minute window")
    base = b"v0:" + timestamp.encode() + b":" + body
    expected = "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected.encode(), signature.encode()):
        raise SignatureInvalid("signature mismatch")


def parse_interaction(body: bytes) -> dict:
    """The `payload` JSON of an interactivity request (form-encoded), or ValueError."""
    try:
        payload = json.loads(parse_qs(body.decode())["payload"][0])
    except (KeyError, IndexError, UnicodeDecodeError, ValueError) as exc:
        raise ValueError("not a Slack interaction payload") from exc
    if not isinstance(payload, dict):
        raise ValueError("not a Slack interaction payload")
    return payload


def requested_action(payload: dict) -> tuple[str, int]:
    """(action, page id) of a block_actions payload from one of our buttons."""
    if payload.get("type") != "block_actions":
        raise ChatRefusal("That kind of interaction is not supported.")
    actions = payload.get("actions") or [{}]
    action_id = str(actions[0].get("action_id", ""))
    if not action_id.startswith(ACTION_PREFIX):
        raise ChatRefusal("That button is not one of the portal's.")
    return action_id[len(ACTION_PREFIX):], parse_page_id(actions[0].get("value"))


def email_of(config: ChatConfig, user_id: str) -> str | None:
    """The Slack user's e-mail (users.info; needs the users:read.email scope)."""
    if not user_id:
        return None
    reply = api(config, "users.info", query={"user": user_id})
    return ((reply.get("user") or {}).get("profile") or {}).get("email")


def tell(config: ChatConfig, payload: dict, text: str) -> None:
    """An ephemeral answer only the clicking person sees (through the response_url)."""
    url = payload.get("response_url")
    if not url:
        return
    transport.call("POST", url, body={"response_type": "ephemeral",
                                      "replace_original": False, "text": text},
                   timeout=config.timeout, allowlist=config.allowed_hosts)
