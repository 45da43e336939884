"""What an action from chat does, once its platform has vouched for it: find the portal
user behind the chat account, act on the page as them, and say how it went.

Every outcome is an `Outcome` the view answers with and writes to the audit log: an
unknown or unauthorized person gets a polite answer only they see, never an action.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from portal.auth.models import User
from portal.oncall import paging
from portal.oncall.chat import common, mattermost, slack
from portal.oncall.chat.common import ChatRefusal, page_view
from portal.oncall.chat.settings import ChatConfig
from portal.oncall.chat.transport import ChatSendError

log = logging.getLogger(__name__)
LOOKUP_FAILED = "Sorry, I could not look up your chat account just now; try again, or use " \
                "the portal."


@dataclass
class Outcome:
    """The answer to the platform and what the audit log records."""
    body: dict | str
    done: bool = False
    action: str | None = None
    page_id: int | None = None
    user: User | None = None
    chat_user: str = ""
    reason: str = ""
    details: dict = field(default_factory=dict)


def _identify_and_act(session: Session, *, config: ChatConfig, platform: str,
                      chat_user: str, action: str, page_id: int, email_of) -> Outcome:
    try:
        email = email_of(config, chat_user)
    except ChatSendError as exc:
        log.warning("%s user %s could not be looked up: %s", platform, chat_user, exc)
        raise ChatRefusal(LOOKUP_FAILED) from exc
    user = common.responder(session=session, email=email)
    page = common.act(session=session, page_id=page_id, action=action, user=user,
                      platform=platform)
    text = f"Page #{page.id} {common.ACTION_WORDS[action]} by {user.name or user.email}."
    return Outcome(body=text, done=True, action=action, page_id=page.id, user=user,
                   chat_user=chat_user)


def slack_interaction(*, session: Session, config: ChatConfig, payload: dict) -> Outcome:
    """A verified block_actions payload: act, or tell the person why not (ephemeral)."""
    chat_user = str((payload.get("user") or {}).get("id", ""))
    try:
        action, page_id = slack.requested_action(payload)
        outcome = _identify_and_act(session, config=config, platform="slack",
                                    chat_user=chat_user, action=action, page_id=page_id,
                                    email_of=slack.email_of)
    except ChatRefusal as exc:
        _tell_slack(config, payload, str(exc))
        return Outcome(body="", chat_user=chat_user, reason=str(exc))
    outcome.body = ""  # the message itself is edited (chat.update) once this commits
    return outcome


def _tell_slack(config: ChatConfig, payload: dict, text: str) -> None:
    try:
        slack.tell(config, payload, text)
    except ChatSendError as exc:
        log.warning("slack: could not send the ephemeral answer: %s", exc)


def mattermost_action(*, session: Session, config: ChatConfig, request: dict) -> Outcome:
    """A button request whose context we signed (checked by the view)."""
    action, page_id = mattermost.checked_action(config, request)
    chat_user = str(request.get("user_id", ""))
    try:
        outcome = _identify_and_act(session, config=config, platform="mattermost",
                                    chat_user=chat_user, action=action, page_id=page_id,
                                    email_of=mattermost.email_of)
    except ChatRefusal as exc:
        return Outcome(body={"ephemeral_text": str(exc)}, chat_user=chat_user,
                       reason=str(exc), page_id=page_id, action=action)
    page = paging.get_page(session=session, page_id=page_id)
    assert page is not None  # the action just applied to it
    outcome.body = {"update": {"message": "", "props": {
        "attachments": [mattermost.attachment(page_view(page, config), config)]}},
        "ephemeral_text": outcome.body}
    return outcome


def mattermost_command(*, session: Session, config: ChatConfig, form) -> Outcome:
    """`/meridian ack 12` (token checked by the view)."""
    chat_user = str(form.get("user_id", ""))
    try:
        action, page_id = mattermost.parse_command(form.get("text", ""))
        outcome = _identify_and_act(session, config=config, platform="mattermost",
                                    chat_user=chat_user, action=action, page_id=page_id,
                                    email_of=mattermost.email_of)
    except ChatRefusal as exc:
        return Outcome(body={"response_type": "ephemeral", "text": str(exc)},
                       chat_user=chat_user, reason=str(exc))
    outcome.body = {"response_type": "ephemeral", "text": outcome.body}
    return outcome
