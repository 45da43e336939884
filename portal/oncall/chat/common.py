"""What every platform shares: a page as a chat message shows it, who may act from chat,
and the actions themselves (which are the paging engine's own ack, resolve and escalate).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from flask import current_app, has_app_context
from sqlalchemy.orm import Session

from portal.auth import service as accounts
from portal.auth.models import User
from portal.db import utcnow
from portal.oncall import notify, paging, service
from portal.oncall.chat.settings import ChatConfig
from portal.oncall.models import Page
from portal.oncall.service import OncallError

ACTIONS = ("ack", "resolve", "escalate")
ACTION_WORDS = {"ack": "acknowledged", "resolve": "resolved", "escalate": "escalated"}
PLATFORM_NAMES = {"slack": "Slack", "mattermost": "Mattermost", "teams": "Microsoft Teams",
                  "discord": "Discord"}
SEVERITY_COLOURS = {"sev1": "#d1242f", "sev2": "#e16f24", "sev3": "#bf8700", "sev4": "#57606a"}
UNKNOWN_PERSON = ("Sorry, I don't know you in the Meridian portal, so I can't do that. Ask an "
                  "admin to give your chat account's e-mail address a portal account, or use "
                  "the portal.")
NOT_RESPONDER = ("Sorry, only on-call responders can act on pages. Ask a manager to add "
                 "you to the rota, or use the portal.")


class ChatRefusal(Exception):
    """A polite answer instead of an action; the message is shown only to the person."""


@dataclass(frozen=True)
class PageView:
    """A page as every platform renders it: text, state and the links or buttons."""
    page_id: int
    title: str
    severity: str
    status: str
    state_line: str
    page_url: str
    incident_url: str | None
    actions: tuple[str, ...]
    links: dict = field(default_factory=dict)  # signed ack/resolve links (link platforms)
    colour: str = "#57606a"

    @property
    def heading(self) -> str:
        return f"[{self.severity.upper()}] {self.title}"


def _name(user: User | None) -> str:
    return (user.name or user.email) if user is not None else "the portal"


def _last(page: Page, kind: str):
    return next((e for e in reversed(page.events) if e.kind == kind), None)


def _via(summary: str) -> str:
    return f" via {summary.rsplit(' via ', 1)[1]}" if " via " in (summary or "") else ""


def state_line(page: Page) -> str:
    """One line saying where the page stands, with people's names."""
    if page.status == "resolved":
        event = _last(page, "resolved")
        who = _name(event.user) if event else "the portal"
        return f"Resolved by {who}{_via(event.summary if event else '')}"
    if page.status == "acked":
        event = _last(page, "acked")
        return f"Acknowledged by {_name(page.acked_by)}{_via(event.summary if event else '')}"
    if page.assignee is None:
        return "Waiting: nobody has been paged yet"
    escalated = _last(page, "escalated")
    verb = "Escalated to" if escalated is not None else "Paging"
    return f"{verb} {_name(page.assignee)} (step {page.step})"


def page_view(page: Page, config: ChatConfig) -> PageView:
    """The page's current state as a message shows it."""
    actions = {"triggered": ("ack", "resolve", "escalate"), "acked": ("resolve",)}
    links = {}
    if page.assignee is not None and page.status != "resolved":
        # The same signed links the page's notifications carry (acting as the paged person).
        token = notify.action_token(config.secret_key, page_id=page.id,
                                    user_id=page.assignee.id)
        links = {"act": f"{config.link_base}/oncall/pages/act/{token}"}
    incident_url = (f"{config.link_base}/incidents/{page.incident_id}"
                    if page.incident_id else None)
    return PageView(page_id=page.id, title=page.title, severity=page.severity,
                    status=page.status, state_line=state_line(page),
                    page_url=f"{config.link_base}/oncall/pages/{page.id}",
                    incident_url=incident_url, actions=actions.get(page.status, ()),
                    links=links, colour=SEVERITY_COLOURS.get(page.severity, "#57606a"))


def responder(*, session: Session, email: str | None) -> User:
    """The portal user behind a chat account's e-mail, if they may act on pages."""
    user = accounts.get_by_email(session=session, email=email.strip().lower()) \
        if email else None
    if user is None or not user.is_active:
        raise ChatRefusal(UNKNOWN_PERSON)
    if not service.may_respond(session=session, user=user):
        raise ChatRefusal(NOT_RESPONDER)
    return user


def parse_page_id(value) -> int:
    """A page number from a button value or a command argument ('12' or '#12')."""
    text = str(value or "").strip().lstrip("#")
    if not text.isdigit() or len(text) > 9:
        raise ChatRefusal("Name the page by its number, for example `ack 12`.")
    return int(text)


def act(*, session: Session, page_id: int, action: str, user: User, platform: str,
        now: datetime | None = None) -> Page:
    """Acknowledge, resolve or escalate a page as `user` from `platform`.

    The paging engine records it (the page's log, the incident timeline through its
    signal); a paging error becomes a polite refusal.
    """
    if action not in ACTIONS:
        raise ChatRefusal("I only know ack, resolve and escalate.")
    page = paging.get_page(session=session, page_id=page_id)
    if page is None:
        raise ChatRefusal(f"There is no page #{page_id}.")
    via = PLATFORM_NAMES.get(platform, platform)
    now = now or utcnow()
    try:
        if action == "ack":
            paging.ack(session=session, page=page, user=user, now=now, via=via)
        elif action == "resolve":
            paging.resolve(session=session, page=page, user=user, now=now, via=via)
        else:
            escalate(session=session, page=page, now=now, user=user, via=via)
    except OncallError as exc:
        raise ChatRefusal(f"Page #{page.id}: {exc}") from exc
    return page


def escalate(*, session: Session, page: Page, now: datetime, user=None,
             via: str = "chat") -> None:
    """Run the page's next notifying step now (the paging engine's escalate-now)."""
    channels = notify.Channels.from_config(current_app.config) if has_app_context() else None
    paging.escalate_now(session=session, page=page, user=user, channels=channels, now=now,
                        via=via)


def incident_url(config: ChatConfig, incident_id: int) -> str:
    return f"{config.link_base}/incidents/{incident_id}"


def incident_text(config: ChatConfig, payload: dict, incident_id: int,
                  channel_link: str | None = None) -> str:
    """The plain announcement of a declared Sev1/Sev2 incident."""
    text = (f"{payload.get('severity', '').capitalize()} incident #{incident_id} declared: "
            f"{payload.get('title', '')} — {incident_url(config, incident_id)}")
    return text + (f" · incident channel: {channel_link}" if channel_link else "")


def test_text(*, team_name: str, by: str) -> str:
    return (f"Test message from the Meridian portal for {team_name}, sent by {by}. Pages "
            "for this team will arrive here.")
