"""Discord: webhook messages with an embed, executed with `?wait=true` so the message id
comes back and later changes edit the same message (PATCH …/messages/{id}).

The acknowledge/resolve action is the portal's signed link in the embed (a webhook that
no application owns cannot carry interactive buttons). Mentions are disabled so a page
title can never ping @everyone.
"""
from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from sqlalchemy.orm import Session

from portal.oncall.chat import transport
from portal.oncall.chat.common import PageView, incident_text
from portal.oncall.chat.models import ChatMessage
from portal.oncall.chat.settings import ChatConfig
from portal.oncall.chat.transport import ChatSendError, Posted

NO_MENTIONS: dict[str, list[str]] = {"parse": []}
USERNAME = "Meridian on-call"


def _url(config: ChatConfig, target: str, *, suffix: str = "", wait: bool = False) -> str:
    url = target or config.discord_webhook_url
    if not url:
        raise ChatSendError("no Discord webhook URL (team target or "
                            "ONCALL_CHAT_DISCORD_WEBHOOK_URL)")
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k != "wait"]
    if wait:
        query.append(("wait", "true"))
    return urlunsplit(parts._replace(path=parts.path.rstrip("/") + suffix,
                                     query=urlencode(query)))


def embed(view: PageView) -> dict:
    lines = [view.state_line]
    links = []
    if view.actions and view.links.get("act"):
        links.append(f"[Acknowledge or resolve]({view.links['act']})")
    if view.incident_url:
        links.append(f"[Incident]({view.incident_url})")
    if links:
        lines += ["", " · ".join(links)]
    return {"title": view.heading[:256], "url": view.page_url,
            "description": "\n".join(lines)[:4096], "color": int(view.colour[1:], 16),
            "fields": [{"name": "Page", "value": f"#{view.page_id}", "inline": True},
                       {"name": "Status", "value": view.status, "inline": True}],
            "footer": {"text": "Meridian portal"}}


def can_edit(parent: ChatMessage) -> bool:
    return bool(parent.remote_id)


def _execute(config: ChatConfig, target: str, body: dict) -> Posted:
    reply = transport.call("POST", _url(config, target, wait=True),
                           body={"username": USERNAME, "allowed_mentions": NO_MENTIONS, **body},
                           timeout=config.timeout, allowlist=config.allowed_hosts)
    return Posted(remote_id=str(reply.body.get("id") or "") or None,
                  channel=str(reply.body.get("channel_id") or "") or None)


def post_page(*, config: ChatConfig, target: str, view: PageView) -> Posted:
    return _execute(config, target, {"embeds": [embed(view)]})


def update_page(*, config: ChatConfig, parent: ChatMessage, view: PageView) -> Posted:
    transport.call("PATCH", _url(config, parent.target, suffix=f"/messages/{parent.remote_id}"),
                   body={"embeds": [embed(view)], "allowed_mentions": NO_MENTIONS},
                   timeout=config.timeout, allowlist=config.allowed_hosts)
    return Posted()


def post_text(*, config: ChatConfig, target: str, text: str) -> Posted:
    return _execute(config, target, {"content": text[:2000]})


def announce_incident(*, session: Session, config: ChatConfig,
                      message: ChatMessage) -> Posted:
    assert message.incident_id is not None  # an incident's announcement names it
    return post_text(config=config, target=message.target,
                     text=incident_text(config, message.payload, message.incident_id))
