"""Chat pages (a child blueprint of `oncall`): the managers' page that sets each team's
chat target and sends a test message, and the endpoints chat platforms call back.

The callbacks carry no session and no CSRF token: each is authenticated by its platform's
own proof (Slack's request signature, our signed Mattermost button context, the
Mattermost slash-command token); a missing secret answers 503, a bad proof 401.
"""
from __future__ import annotations

import json
import logging
import time

from flask import abort, current_app, flash, redirect, request, url_for
from flask_login import current_user

from portal.auth import bearer
from portal.auth.access import audit_action, require_roles
from portal.catalog import service as catalog
from portal.extensions import csrf, db
from portal.oncall.blueprint import chat_bp as bp
from portal.oncall.chat import delivery, inbound, mattermost, slack, targets
from portal.oncall.chat.common import PLATFORM_NAMES
from portal.oncall.chat.forms import ChatTargetForm
from portal.oncall.chat.settings import ChatConfig
from portal.rendering import page_or_fragment

log = logging.getLogger(__name__)
REFUSED = {"error": "the request could not be verified"}


def _config() -> ChatConfig:
    return ChatConfig.from_config(current_app.config)


def _team(slug: str):
    team = targets.team_by_slug(session=db.session, slug=slug)
    if team is None:
        abort(404)
    return team


def _rows(forms: dict | None = None) -> list[dict]:
    found = targets.all_by_team(session=db.session)
    rows = []
    for team in catalog.list_teams(session=db.session):
        target = found.get(team.id)
        form = (forms or {}).get(team.id) or ChatTargetForm(formdata=None, prefix=team.slug,
                                                            obj=target)
        rows.append({"team": team, "target": target, "form": form})
    return rows


@bp.get("/")
@require_roles("manager")
def index():
    """Every team's chat target, a form to change it, and the latest chat messages."""
    return page_or_fragment("oncall/chat/index.html", "oncall/chat/_teams.html", rows=_rows(),
                            available=_config().available(), names=PLATFORM_NAMES,
                            recent=targets.recent(session=db.session))


@bp.post("/teams/<slug>")
@require_roles("manager")
def set_target(slug: str):
    """Set or remove one team's chat target."""
    team = _team(slug)
    form = ChatTargetForm(prefix=team.slug)
    error = None
    if form.validate():
        try:
            row = targets.set_target(session=db.session, team=team,
                                     platform=form.platform.data or "",
                                     target=form.target.data or "",
                                     incident_channels=form.incident_channels.data,
                                     by=current_user.email, config=_config())
        except targets.TargetInvalid as exc:
            error = str(exc)
        else:
            audit_action("oncall.chat_target_set", target_type="team", target_id=team.slug,
                         details={"platform": row.platform if row else None,
                                  "incident_channels": bool(row and row.incident_channels)})
            flash(f"Chat of {team.name}: " + (f"{PLATFORM_NAMES[row.platform]} saved."
                                              if row else "removed."), "success")
            return redirect(url_for(".index"), 303)
    else:
        error = "; ".join(e for errors in form.errors.values() for e in errors)
    form.target.errors = [error]
    return page_or_fragment("oncall/chat/index.html", "oncall/chat/_teams.html",
                            rows=_rows({team.id: form}), available=_config().available(),
                            names=PLATFORM_NAMES, recent=targets.recent(session=db.session),
                            http_status=400)


@bp.post("/teams/<slug>/test")
@require_roles("manager")
def send_test(slug: str):
    """Post a test message to the team's chat now and show what happened."""
    team = _team(slug)
    target = targets.for_team(session=db.session, team_id=team.id)
    if target is None:
        abort(409, description=f"{team.name} has no chat target yet; set one first.")
    message = targets.send_test(session=db.session, target=target, by=current_user.email,
                                config=_config())
    audit_action("oncall.chat_test", target_type="team", target_id=team.slug,
                 outcome="success" if message.status == "sent" else "failure",
                 details={"platform": target.platform, "status": message.status,
                          "error": message.last_error})
    return page_or_fragment("oncall/chat/test_result.html", "oncall/chat/_test_result.html",
                            team=team, message=message, names=PLATFORM_NAMES)


def _audit_chat(outcome: inbound.Outcome, platform: str) -> None:
    audit_action(f"oncall.page_{outcome.action}" if outcome.done else "oncall.chat_refused",
                 actor=outcome.user, actor_email=f"{platform}:{outcome.chat_user}",
                 target_type="page", target_id=outcome.page_id,
                 outcome="success" if outcome.done else "denied",
                 details={"via": platform, "chat_user": outcome.chat_user,
                          **({"reason": outcome.reason} if outcome.reason else {})})


@bp.post("/slack/interactions")
@csrf.exempt
@bearer.own_credentials
def slack_interactions():
    """Slack's interactivity request URL: a button on one of our page messages."""
    config = _config()
    if not config.slack_signing_secret:
        return {"error": "Slack is not configured on this portal"}, 503
    body = request.get_data()
    try:
        slack.verify(secret=config.slack_signing_secret,
                     timestamp=request.headers.get("X-Slack-Request-Timestamp"),
                     signature=request.headers.get("X-Slack-Signature"), body=body,
                     now=time.time())
    except slack.SignatureInvalid as exc:
        log.warning("slack interaction refused: %s", exc)
        return REFUSED, 401
    try:
        payload = slack.parse_interaction(body)
    except ValueError as exc:
        return {"error": str(exc)}, 400
    outcome = inbound.slack_interaction(session=db.session, config=config, payload=payload)
    _audit_chat(outcome, "slack")
    return "", 200


@bp.post("/mattermost/actions")
@csrf.exempt
@bearer.own_credentials
def mattermost_actions():
    """The integration URL of our Mattermost buttons."""
    config = _config()
    if not config.mattermost_action_secret:
        return {"error": "Mattermost buttons are not configured on this portal"}, 503
    try:
        data = json.loads(request.get_data() or b"null")
    except ValueError:
        return {"error": "the body is not JSON"}, 400
    try:
        outcome = inbound.mattermost_action(session=db.session, config=config,
                                            request=data if isinstance(data, dict) else {})
    except mattermost.ContextInvalid as exc:
        log.warning("mattermost action refused: %s", exc)
        return REFUSED, 401
    _audit_chat(outcome, "mattermost")
    return outcome.body, 200


@bp.post("/mattermost/command")
@csrf.exempt
@bearer.own_credentials
def mattermost_command():
    """The `/meridian` slash command."""
    config = _config()
    if not config.mattermost_command_token:
        return {"error": "the Mattermost command is not configured on this portal"}, 503
    if not mattermost.command_token_ok(config, request.form.get("token"),
                                       request.headers.get("Authorization")):
        log.warning("mattermost command refused: wrong token")
        return REFUSED, 401
    outcome = inbound.mattermost_command(session=db.session, config=config, form=request.form)
    _audit_chat(outcome, "mattermost")
    return outcome.body, 200


@bp.app_template_global()
def oncall_chat_of_page(page_id: int) -> list:
    """A page's chat messages with their delivery state (for the page detail)."""
    return delivery.for_page(session=db.session, page_id=page_id)


@bp.app_template_global()
def oncall_chat_of_incident(incident_id: int) -> list:
    """An incident's chat messages and its pages', with their state (incident page)."""
    return delivery.for_incident(session=db.session, incident_id=incident_id)
