"""Mattermost: posts through the REST API (/api/v4/posts) with interactive message
attachments, the action endpoint's check of the context we signed, and the optional
slash command (`/meridian ack 12`) checked by its token.

Mattermost relays a button's `integration.context` verbatim to our URL; we put the page,
the action and an HMAC of both (ONCALL_CHAT_MATTERMOST_ACTION_SECRET) in it, so a request
that did not start from one of our buttons is refused. Who clicked is the `user_id`
Mattermost adds; we look their e-mail up with the bot token.
"""
from __future__ import annotations

import hashlib
import hmac

from sqlalchemy.orm import Session

from portal.oncall.chat import transport
from portal.oncall.chat.common import (
    ACTIONS,
    ChatRefusal,
    PageView,
    incident_text,
    parse_page_id,
)
from portal.oncall.chat.models import ChatMessage
from portal.oncall.chat.settings import ChatConfig
from portal.oncall.chat.transport import ChatSendError, Posted

LABELS = {"ack": ("Acknowledge", "primary"), "resolve": ("Resolve", "good"),
          "escalate": ("Escalate", "danger")}
ACTION_PATH = "/oncall/chat/mattermost/actions"


class ContextInvalid(Exception):
    """A button request whose context we did not sign."""


def api(config: ChatConfig, method: str, path: str, body: dict | None = None) -> dict:
    if not (config.mattermost_url and config.mattermost_bot_token):
        raise ChatSendError("Mattermost is not configured (ONCALL_CHAT_MATTERMOST_URL and "
                            "ONCALL_CHAT_MATTERMOST_BOT_TOKEN)")
    return transport.call(method, f"{config.mattermost_url}/api/v4{path}", body=body,
                          headers={"Authorization": f"Bearer {config.mattermost_bot_token}"},
                          timeout=config.timeout, allowlist=config.allowed_hosts).body


def sign(secret: str, page_id: int, action: str) -> str:
    return hmac.new(secret.encode(), f"mattermost:{page_id}:{action}".encode(),
                    hashlib.sha256).hexdigest()


def attachment(view: PageView, config: ChatConfig) -> dict:
    """The page as a message attachment; buttons only when the context can be signed."""
    text = view.state_line + (f"\n[Incident]({view.incident_url})" if view.incident_url else "")
    out: dict[str, object]
    out = {"fallback": f"{view.heading}: {view.state_line}", "color": view.colour,
           "title": view.heading, "title_link": view.page_url, "text": text,
           "footer": f"Page #{view.page_id}"}
    if view.actions and config.mattermost_action_secret:
        out["actions"] = [{
            "id": action, "name": LABELS[action][0], "type": "button",
            "style": LABELS[action][1],
            "integration": {"url": config.link_base + ACTION_PATH, "context": {
                "page": view.page_id, "action": action,
                "sig": sign(config.mattermost_action_secret, view.page_id, action)}}}
            for action in view.actions]
    return out


def can_edit(parent: ChatMessage) -> bool:
    return bool(parent.remote_id)


def _link(config: ChatConfig, post_id: str | None) -> str | None:
    return f"{config.mattermost_url}/_redirect/pl/{post_id}" if post_id else None


def post_page(*, config: ChatConfig, target: str, view: PageView) -> Posted:
    reply = api(config, "POST", "/posts", {"channel_id": target, "message": "",
                                           "props": {"attachments": [attachment(view, config)]}})
    return Posted(remote_id=reply.get("id"), channel=reply.get("channel_id"),
                  link=_link(config, reply.get("id")))


def update_page(*, config: ChatConfig, parent: ChatMessage, view: PageView) -> Posted:
    api(config, "PUT", f"/posts/{parent.remote_id}/patch",
        {"message": "", "props": {"attachments": [attachment(view, config)]}})
    return Posted()


def post_text(*, config: ChatConfig, target: str, text: str) -> Posted:
    reply = api(config, "POST", "/posts", {"channel_id": target, "message": text})
    return Posted(remote_id=reply.get("id"), channel=reply.get("channel_id"),
                  link=_link(config, reply.get("id")))


def announce_incident(*, session: Session, config: ChatConfig,
                      message: ChatMessage) -> Posted:
    """The announcement in the team's channel; its permalink is the incident's chat link."""
    assert message.incident_id is not None  # an incident's announcement names it
    return post_text(config=config, target=message.target,
                     text=incident_text(config, message.payload, message.incident_id))


def email_of(config: ChatConfig, user_id: str) -> str | None:
    if not user_id or not user_id.isalnum():
        return None
    return api(config, "GET", f"/users/{user_id}").get("email")


def checked_action(config: ChatConfig, request: dict) -> tuple[str, int]:
    """(action, page id) of a button request whose context carries our signature."""
    context = request.get("context") if isinstance(request, dict) else None
    if not isinstance(context, dict):
        raise ContextInvalid("no context")
    action, page = str(context.get("action", "")), context.get("page")
    if action not in ACTIONS or not isinstance(page, int):
        raise ContextInvalid("malformed context")
    secret = config.mattermost_action_secret
    if not secret:  # the view answers 503 first; never check against an empty key
        raise ContextInvalid("buttons not configured")
    expected = sign(secret, page, action)
    if not hmac.compare_digest(expected.encode(), str(context.get("sig", "")).encode()):
        raise ContextInvalid("bad signature")
    return action, page


def command_token_ok(config: ChatConfig, form_token: str | None,
                     authorization: str | None) -> bool:
    """The slash command's token, from the form or the `Authorization: Token …` header."""
    expected = (config.mattermost_command_token or "").encode()
    sent = form_token or ""
    if authorization and authorization.startswith("Token "):
        sent = authorization[len("Token "):]
    return bool(expected) and hmac.compare_digest(expected, sent.strip().encode())


def parse_command(text: str) -> tuple[str, int]:
    """`ack 12`, `resolve #12` or `escalate 12`."""
    words = (text or "").split()
    if len(words) != 2 or words[0].lower() not in ACTIONS:
        raise ChatRefusal("Usage: `/meridian ack|resolve|escalate <page number>`.")
    return words[0].lower(), parse_page_id(words[1])
