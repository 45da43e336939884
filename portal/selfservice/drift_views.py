"""The drift inbox page: what differs from the code, who owns it, and what people decided."""
from __future__ import annotations

from flask import abort, redirect, request, url_for
from flask_login import current_user

from portal.auth.access import audit_action, require_roles
from portal.extensions import db
from portal.rendering import page_or_fragment
from portal.selfservice import drift, service
from portal.selfservice.blueprint import bp
from portal.selfservice.models import DRIFT_STATES

VIEWERS = ("developer", "oncall", "manager")
ACTORS = ("developer", "manager")


@bp.get("/drift")
@require_roles(*VIEWERS)
def drift_inbox():
    """Drift items (open first) with their latest scans; `?state=` filters."""
    state = request.args.get("state") or None
    if state is not None and state not in DRIFT_STATES:
        abort(400, description=f"state must be one of {', '.join(DRIFT_STATES)}.")
    return page_or_fragment("selfservice/drift.html", "selfservice/_drift_items.html",
                            items=drift.inbox(session=db.session, state=state),
                            scans=drift.scans(session=db.session), state=state,
                            actions=drift.TRANSITIONS,
                            may_act=current_user.has_role(*ACTORS))


@bp.post("/drift/<int:item_id>/<action>")
@require_roles(*ACTORS)
def drift_action(item_id: int, action: str):
    """Accept, remediate (requests the fix through a job) or mark a drift item reverted."""
    item = drift.get_item(session=db.session, item_id=item_id)
    if item is None:
        abort(404)
    if action not in drift.TRANSITIONS:
        abort(404)
    before = item.state
    try:
        drift.transition(session=db.session, item=item, action=action, user=current_user)
    except service.Refused as exc:
        abort(409, description=" ".join(exc.reasons))
    audit_action(f"selfservice.drift.{action}", target_type="selfservice_drift_item",
                 target_id=item.id, details={"from": before, "to": item.state,
                                             "subject": item.subject, "scope": item.scope,
                                             "job": str(item.remediation_job_id or "") or None})
    if action == "remediate" and item.remediation_job_id:
        return redirect(url_for(".job_detail", job_id=item.remediation_job_id), 303)
    return redirect(url_for(".drift_inbox", state=request.args.get("state") or None), 303)
