"""Game day pages: request a chaos experiment in staging, decide on it, end it, record
how the service held up."""
from __future__ import annotations

from flask import abort, redirect, request, url_for
from flask_login import current_user

from portal.auth.access import audit_action, require_roles
from portal.extensions import db
from portal.rendering import page_or_fragment
from portal.selfservice import gamedays, review, service
from portal.selfservice.blueprint import REQUESTERS, bp
from portal.selfservice.parameters import ParamError

VIEWERS = ("developer", "oncall", "manager")


def _page(*, errors: dict | None = None, reasons: list[str] | None = None, form: dict | None = None,
          http_status: int = 200):
    session = db.session
    return page_or_fragment(
        "selfservice/gamedays.html", "selfservice/_gamedays_list.html", http_status=http_status,
        groups=gamedays.grouped(session=session), timeline=gamedays.timeline,
        params=gamedays.PARAMS, options={p.name: p.options(session) for p in gamedays.PARAMS},
        dep_groups=gamedays.dependency_groups(session),
        errors=errors or {}, reasons=reasons or [], form=form or {},
        may_request=current_user.has_role(*REQUESTERS))


def _gameday_or_404(gameday_id: int):
    gameday = gamedays.get(session=db.session, gameday_id=gameday_id)
    if gameday is None:
        abort(404)
    return gameday


@bp.get("/gamedays")
@require_roles(*VIEWERS)
def gameday_list():
    """Upcoming, running and past game days, each with its timeline, and the request form."""
    return _page()


@bp.post("/gamedays")
@require_roles(*REQUESTERS)
def gameday_request():
    """Request a chaos experiment; it waits for a manager's approval."""
    form = {p.name: request.form.get(p.name, "")[:200] for p in gamedays.PARAMS}
    try:
        gameday = gamedays.request(session=db.session, raw=request.form, requester=current_user)
    except service.InvalidParameters as exc:
        return _page(errors=exc.errors, form=form, http_status=422)
    except service.Refused as exc:
        return _page(reasons=exc.reasons, form=form, http_status=422)
    audit_action("selfservice.gameday.request", target_type="selfservice_gameday",
                 target_id=gameday.id, details={"name": gameday.name,
                                                "service": gameday.service.slug,
                                                "experiment": gameday.experiment})
    return redirect(url_for(".gameday_list", _anchor=f"gameday-{gameday.id}"), 303)


@bp.post("/gamedays/<int:gameday_id>/decision")
@require_roles("manager")
def gameday_decide(gameday_id: int):
    """Approve (committing the manifest once the window starts) or reject, with a comment."""
    gameday = _gameday_or_404(gameday_id)
    decision = request.form.get("decision")
    try:
        gamedays.decide(session=db.session, gameday=gameday, user=current_user,
                        decision=decision, comment=request.form.get("comment"))
    except review.InvalidDecision as exc:
        return _page(reasons=[str(exc)], http_status=422)
    except service.Refused as exc:
        abort(409, description=" ".join(exc.reasons))
    audit_action(f"selfservice.gameday.{decision}", target_type="selfservice_gameday",
                 target_id=gameday.id, details={"comment": gameday.decision_comment,
                                                "commit": gameday.commit_sha})
    return redirect(url_for(".gameday_list", _anchor=f"gameday-{gameday.id}"), 303)


@bp.post("/gamedays/<int:gameday_id>/end")
@require_roles(*REQUESTERS)
def gameday_end(gameday_id: int):
    """End a running experiment now: its manifest is removed in a new commit."""
    gameday = _gameday_or_404(gameday_id)
    try:
        gamedays.end(session=db.session, gameday=gameday, user=current_user)
    except service.Refused as exc:
        abort(409, description=" ".join(exc.reasons))
    audit_action("selfservice.gameday.end", target_type="selfservice_gameday",
                 target_id=gameday.id, details={"removal_commit": gameday.removal_sha})
    return redirect(url_for(".gameday_list", _anchor=f"gameday-{gameday.id}"), 303)


@bp.post("/gamedays/<int:gameday_id>/outcome")
@require_roles(*REQUESTERS)
def gameday_outcome(gameday_id: int):
    """The requester records whether the service held or degraded, with notes."""
    gameday = _gameday_or_404(gameday_id)
    try:
        gamedays.record_outcome(session=db.session, gameday=gameday, user=current_user,
                                outcome=request.form.get("outcome"),
                                notes=request.form.get("notes"))
    except ParamError as exc:
        return _page(reasons=[str(exc)], http_status=422)
    except service.Refused as exc:
        abort(403, description=" ".join(exc.reasons))
    audit_action("selfservice.gameday.outcome", target_type="selfservice_gameday",
                 target_id=gameday.id, details={"outcome": gameday.outcome,
                                                "notes": gameday.outcome_notes})
    return redirect(url_for(".gameday_list", _anchor=f"gameday-{gameday.id}"), 303)
