"""Microsoft Teams: Adaptive Cards posted to a Workflows incoming webhook.

An incoming webhook can neither edit a card nor receive button clicks, so every change of
a page is a new card, and the actions are Action.OpenUrl to the portal's signed
acknowledge/resolve link (the one the page's notifications carry) and to the page.
"""
from __future__ import annotations

from sqlalchemy.orm import Session

from portal.oncall.chat import transport
from portal.oncall.chat.common import PageView, incident_text
from portal.oncall.chat.models import ChatMessage
from portal.oncall.chat.settings import ChatConfig
from portal.oncall.chat.transport import ChatSendError, Posted

SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"


def _url(config: ChatConfig, target: str) -> str:
    url = target or config.teams_webhook_url
    if not url:
        raise ChatSendError("no Teams webhook URL (team target or ONCALL_CHAT_TEAMS_WEBHOOK_URL)")
    return url


def message(body: list[dict], actions: list[dict]) -> dict:
    """The webhook's envelope around one Adaptive Card."""
    card = {"$schema": SCHEMA, "type": "AdaptiveCard", "version": "1.4", "body": body}
    if actions:
        card["actions"] = actions
    return {"type": "message", "attachments": [{
        "contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": None,
        "content": card}]}


def card(view: PageView) -> dict:
    body: list[dict]
    body = [{"type": "TextBlock", "text": view.heading, "weight": "Bolder", "size": "Medium",
             "wrap": True, "color": "Attention" if view.severity in ("sev1", "sev2")
             else "Default"},
            {"type": "TextBlock", "text": view.state_line, "wrap": True},
            {"type": "FactSet", "facts": [{"title": "Page", "value": f"#{view.page_id}"},
                                         {"title": "Status", "value": view.status}]}]
    actions: list[dict] = []
    if view.actions and view.links.get("act"):
        actions.append({"type": "Action.OpenUrl", "title": "Acknowledge or resolve",
                        "url": view.links["act"]})
    actions.append({"type": "Action.OpenUrl", "title": "Open the page", "url": view.page_url})
    if view.incident_url:
        actions.append({"type": "Action.OpenUrl", "title": "Open the incident",
                        "url": view.incident_url})
    return message(body, actions)


def can_edit(parent: ChatMessage) -> bool:
    return True  # "editing" posts the new state as a new card


def _post(config: ChatConfig, target: str, body: dict) -> Posted:
    transport.call("POST", _url(config, target), body=body, timeout=config.timeout,
                   allowlist=config.allowed_hosts)
    return Posted()


def post_page(*, config: ChatConfig, target: str, view: PageView) -> Posted:
    return _post(config, target, card(view))


def update_page(*, config: ChatConfig, parent: ChatMessage, view: PageView) -> Posted:
    return _post(config, parent.target, card(view))


def post_text(*, config: ChatConfig, target: str, text: str) -> Posted:
    return _post(config, target, message([{"type": "TextBlock", "text": text, "wrap": True}],
                                         []))


def announce_incident(*, session: Session, config: ChatConfig,
                      message: ChatMessage) -> Posted:
    assert message.incident_id is not None  # an incident's announcement names it
    return post_text(config=config, target=message.target,
                     text=incident_text(config, message.payload, message.incident_id))
