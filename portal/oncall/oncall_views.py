"""On-call pages: who is on call, my pages, live alerts, the Alertmanager webhook, and the
signed ack/resolve links. Schedules, silences and the rest have their own view modules, on
child blueprints of this one (see blueprint.py)."""
from __future__ import annotations

import hmac
import logging
from collections.abc import Sequence
from zoneinfo import ZoneInfo

from flask import (
    abort,
    current_app,
    flash,
    render_template,
    request,
)
from flask_login import current_user

from portal import nav
from portal.auth import bearer
from portal.auth import service as accounts
from portal.auth.access import audit_action
from portal.auth.models import User
from portal.catalog import service as catalog
from portal.extensions import csrf, db
from portal.oncall import alerts, notify, paging, service
from portal.oncall.access import may_see_page, require_responder
from portal.oncall.am import alert_cache, am_client
from portal.oncall.blueprint import ONCALL, bp
from portal.oncall.service import OncallError
from portal.rendering import page_or_fragment
from portal.security.redirects import safe_redirect

log = logging.getLogger(__name__)
MAX_EXPANDED = 50


def _board(expanded: Sequence[str] = ()):
    return alerts.board(session=db.session, client=am_client(), cache=alert_cache(),
                        expanded=expanded)


def _runbook_links(board) -> dict:
    """The runbook of each alert on the board, by (service, alert name), in one statement."""
    alerts = [(a.service, a.name) for _, _, items in board.groups for a in items]
    return catalog.runbook_links(session=db.session, alerts=alerts)


def _expanded() -> list[str]:
    """The "service/severity" groups the viewer asked to see in full (kept while polling)."""
    return [key for key in request.args.getlist("open")[:MAX_EXPANDED] if len(key) <= 300]


OPEN_PAGES_SHOWN = paging.OPEN_PAGES_SHOWN  # each list shows the newest this many


def _open_pages(viewer_id: int, others: bool
                ) -> tuple[list[paging.PageRow], list[paging.PageRow]]:
    """The viewer's open pages and (when `others`) every open page, newest first."""
    return paging.open_page_lists(session=db.session, viewer_id=viewer_id, others=others,
                                  limit=OPEN_PAGES_SHOWN)


@bp.get("/")
@require_responder
def index():
    """Who is on call now and next, my open pages, and the live alert board."""
    # Rostered people without the on-call role see only the pages addressed to them.
    others = current_user.has_role(*ONCALL)
    board = _board()
    my_pages, open_pages = _open_pages(current_user.id, others)
    return render_template(
        "oncall/index.html", rows=service.who_is_on_call(session=db.session),
        my_pages=my_pages, open_pages=open_pages, board=board,
        expanded=[], runbook_links=_runbook_links(board))


@bp.get("/alerts")
@require_responder
def alert_board():
    """The active alerts grouped by service and severity (polled by the on-call page)."""
    expanded = _expanded()
    board = _board(expanded)
    return page_or_fragment("oncall/alerts.html", "oncall/_alerts.html", board=board,
                            expanded=expanded, runbook_links=_runbook_links(board))


def _page_or_404(page_id: int):
    page = paging.get_page(session=db.session, page_id=page_id)
    if page is None:
        abort(404)
    if not may_see_page(current_user, page, notify.for_page(session=db.session, page=page)):
        abort(403)
    return page


@bp.get("/pages/<int:page_id>")
@require_responder
def page_detail(page_id: int):
    """One page: its escalation log and every notification with its delivery state."""
    page = _page_or_404(page_id)
    return render_template("oncall/page.html", page=page,
                           notifications=notify.for_page(session=db.session, page=page),
                           policy=service.get_policy(session=db.session, severity=page.severity))


@bp.post("/pages/<int:page_id>/<any(ack, resolve, escalate):action>")
@require_responder
def page_action(page_id: int, action: str):
    """Acknowledge, resolve or escalate (run the next step now) a page from the portal."""
    page = _page_or_404(page_id)
    user = current_user._get_current_object()
    try:
        if action == "escalate":
            paging.escalate_now(session=db.session, page=page, user=user,
                                channels=notify.Channels.from_config(current_app.config))
        else:
            change = paging.ack if action == "ack" else paging.resolve
            change(session=db.session, page=page, user=user)
    except OncallError as exc:
        abort(409, description=str(exc))
    audit_action(f"oncall.page_{action}", target_type="page", target_id=page.id,
                 details={"incident_id": page.incident_id, "via": "portal"})
    done = {"ack": "acknowledged", "resolve": "resolved", "escalate": "escalated"}[action]
    flash(f"Page #{page.id} {done}.", "success")
    return safe_redirect(request.form.get("next"), "oncall.page_detail", page_id=page.id)


def _signed(token: str):
    try:
        page_id, user_id = notify.read_action_token(current_app.config["SECRET_KEY"], token)
    except ValueError as exc:
        abort(403, description=str(exc))
    page, user = paging.get_page(session=db.session, page_id=page_id), accounts.get(
        session=db.session, user_id=user_id)
    if page is None or user is None or not user.is_active:
        abort(404)
    return page, user


@bp.route("/pages/act/<token>", methods=["GET", "POST"])
def act_by_link(token: str):
    """The signed link of a notification: GET confirms, POST acks or resolves."""
    page, user = _signed(token)
    if request.method == "GET":
        return render_template("oncall/act.html", page=page, user=user, token=token)
    action = request.form.get("action")
    if action not in ("ack", "resolve"):
        abort(400, description="Choose acknowledge or resolve.")
    change = paging.ack if action == "ack" else paging.resolve
    try:
        change(session=db.session, page=page, user=user, via="signed link")
    except OncallError as exc:
        return render_template("oncall/act.html", page=page, user=user, token=token,
                               error=str(exc)), 409
    audit_action(f"oncall.page_{action}", actor=user, target_type="page", target_id=page.id,
                 details={"incident_id": page.incident_id, "via": "signed link"})
    return render_template("oncall/act.html", page=page, user=user, token=token, done=action)


@bp.post("/alertmanager/webhook")
@csrf.exempt
@bearer.own_credentials
def alertmanager_webhook():
    """Receive Alertmanager notifications: bearer token, validated body, dedupe by fingerprint."""
    expected = current_app.config.get("ALERTMANAGER_WEBHOOK_TOKEN")
    if not expected:
        abort(503, description="The Alertmanager webhook is not configured on this portal.")
    sent = request.headers.get("Authorization", "")
    if not hmac.compare_digest(sent.encode(), f"Bearer {expected}".encode()):
        log.warning("alertmanager webhook: refused a call without the right bearer token")
        return {"error": "unauthorized"}, 401, {"WWW-Authenticate": "Bearer"}
    try:
        payload = alerts.parse_webhook(request.get_data())
    except alerts.PayloadInvalid as exc:
        log.warning("alertmanager webhook: malformed payload refused: %s", exc)
        return {"error": "malformed payload", "detail": str(exc)}, 400
    result = alerts.ingest(session=db.session, payload=payload)
    audit_action("oncall.alerts_received", actor_email="alertmanager",
                 target_type="alertmanager_group", target_id=payload.groupKey[:120],
                 details={"received": result.received, "changed": len(result.changed),
                          "status": payload.status})
    return {"received": result.received, "changed": len(result.changed)}, 200


@bp.app_template_filter("in_zone")
def in_zone(value, zone: str, fmt: str = "%a %d %b %H:%M %Z") -> str:
    """A UTC timestamp shown in a schedule's own time zone (hand-offs are local times)."""
    return value.astimezone(ZoneInfo(zone)).strftime(fmt) if value else ""


@bp.app_template_global()
def oncall_for_service(service_obj) -> dict | None:
    """Who is on call for a catalog service's team (for the service page's panel)."""
    row = service.on_call_for_team(session=db.session, team_id=service_obj.team_id)
    if row is None:
        return None
    return {"row": row, "team_schedule": row.schedule.team_id == service_obj.team_id}


@bp.app_template_global()
def oncall_pages_of_incident(incident_id: int) -> list:
    """The pages an incident started (for the incident page)."""
    return paging.pages_for_incident(session=db.session, incident_id=incident_id)


def _rostered(user: object) -> bool:
    # why: the menu asks only about a signed-in account, and every login loader gives a User
    assert isinstance(user, User)
    return service.may_respond(session=db.session, user=user)


@bp.record_once
def _menu_for_rostered_people(state) -> None:
    # Anyone on a rota gets the On-call entry, whatever their role.
    nav.also_allow(state.app, "oncall.index", _rostered)


@bp.app_template_global()
def oncall_responder() -> bool:
    """Whether the signed-in user may use the on-call pages (on-call role or rostered)."""
    return current_user.is_authenticated and service.may_respond(session=db.session,
                                                                 user=current_user)


@bp.app_template_global()
def oncall_home() -> dict:
    """Now/next for every schedule (home panel; the home's first screen has the pages)."""
    return {"rows": service.who_is_on_call(session=db.session)}
