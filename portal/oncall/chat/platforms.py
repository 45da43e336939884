"""Route a queued chat message to its platform's module.

Each platform module offers the same four calls: `post_page`, `update_page`, `post_text`
and `announce_incident`; each returns a `Posted` (the platform's handle of the message).
"""
from __future__ import annotations

from sqlalchemy.orm import Session

from portal.oncall.chat import discord, mattermost, slack, teams
from portal.oncall.chat.common import page_view
from portal.oncall.chat.models import ChatMessage
from portal.oncall.chat.settings import ChatConfig
from portal.oncall.chat.transport import ChatSendError, Posted  # noqa: F401 (re-exported)
from portal.oncall.models import Page

MODULES = {"slack": slack, "mattermost": mattermost, "teams": teams, "discord": discord}


class NotYet(Exception):
    """An edit whose original post has not been sent yet: try again shortly."""


def dispatch(*, session: Session, message: ChatMessage, config: ChatConfig) -> Posted | None:
    """Send one message; raises ChatSendError when the platform refused or failed."""
    module = MODULES.get(message.platform)
    if module is None:
        raise ChatSendError(f"unknown chat platform {message.platform!r}")
    if message.purpose == "test":
        return module.post_text(config=config, target=message.target,
                                text=message.payload.get("text", ""))
    if message.purpose == "incident":
        return module.announce_incident(session=session, config=config, message=message)
    page = session.get(Page, message.page_id) if message.page_id else None
    if page is None:
        raise ChatSendError("the page no longer exists")
    view = page_view(page, config)
    if message.purpose == "page":
        return module.post_page(config=config, target=message.target, view=view)
    parent = message.parent
    if parent is not None and parent.status == "pending":
        raise NotYet()
    if parent is None or parent.status == "failed" or not module.can_edit(parent):
        # The first post never arrived (or cannot be edited): post the page as it is now.
        return module.post_page(config=config, target=message.target, view=view)
    return module.update_page(config=config, parent=parent, view=view)
