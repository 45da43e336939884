"""The suspect-change panel of an incident page and its guarded rollback (routes on the
incidents blueprint)."""
from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from portal.auth.access import audit_action, require_roles
from portal.extensions import db
from portal.incidents import suspect_silences, suspects
from portal.incidents.blueprint import STAFF, bp, load, suspects_context
from portal.incidents.forms import SuspectRollbackForm
from portal.incidents.models import Incident
from portal.incidents.suspect_rollback import RollbackRefused, request_rollback
from portal.oncall.am import alert_cache, am_client
from portal.rendering import page_or_fragment
from portal.selfservice.blueprint import REQUESTERS as DEPLOY_REQUESTERS


@bp.get("/<int:incident_id>/suspects")
@require_roles(*STAFF)
def suspect_changes(incident_id: int):
    """Changes before and during the incident on its services and their dependencies."""
    incident = load(incident_id)
    hours = request.args.get("hours", default=suspects.DEFAULT_HOURS, type=int)
    return page_or_fragment("incidents/suspects.html", "incidents/_suspects.html",
                            incident=incident, **suspects_context(incident, hours))


@bp.post("/<int:incident_id>/suspects/<job_id>/rollback")
@require_roles(*DEPLOY_REQUESTERS)
def rollback_suspect(incident_id: int, job_id: str):
    """Request the rollback of a suspect job's change through the self-service request path."""
    incident, form = load(incident_id), _submitted()
    try:
        job = request_rollback(session=db.session, incident=incident, job_id=job_id,
                               reason=form.reason.data, requester=current_user)
    except RollbackRefused as exc:
        return _refused(incident, exc)
    details = {"incident_id": incident.id, "reverts_job": job.params["reverts_job"],
               "reason": job.params["reason"]}
    audit_action("selfservice.request", target_type="selfservice_job", target_id=job.id,
                 details={"template": job.template, "params": job.params})
    audit_action("incidents.suspect_rollback", target_type="selfservice_job",
                 target_id=job.id, details=details)
    waits = " It waits for a manager's approval." if job.gate == "approval" else ""
    flash(f"Rollback requested (job {job.label}).{waits}", "success")
    return redirect(url_for("selfservice.job_detail", job_id=job.id), 303)


@bp.post("/<int:incident_id>/suspects/silences/<silence_id>/<action>")
@require_roles(*suspect_silences.UNDOERS)
def undo_suspect_silence(incident_id: int, silence_id: str, action: str):
    """Expire a suspect silence, or re-create one that was expired, with a reason."""
    incident, form = load(incident_id), _submitted()
    try:
        done = suspect_silences.undo(
            session=db.session, client=am_client(), incident=incident, silence_id=silence_id,
            action=action, reason=form.reason.data, actor=current_user,
            max_hours=current_app.config["ONCALL_SILENCE_MAX_HOURS"])
    except RollbackRefused as exc:
        return _refused(incident, exc)
    alert_cache().clear()  # the board shows the change at once, not a cached list
    audit_action(f"oncall.silence_{'expire' if action == 'expire' else 'create'}",
                 target_type="silence", target_id=done,
                 details={"incident_id": incident.id, "undoes": silence_id})
    audit_action("incidents.suspect_silence_undo", target_type="silence", target_id=done,
                 details={"incident_id": incident.id, "action": action,
                          "undoes": silence_id, "reason": form.reason.data.strip()})
    flash(f"Silence {silence_id[:8]} {'expired' if action == 'expire' else 're-created'}.",
          "success")
    return redirect(url_for("incidents.suspect_changes", incident_id=incident.id), 303)


def _submitted() -> SuspectRollbackForm:
    form = SuspectRollbackForm()
    if not form.validate_on_submit():
        abort(400, description="The form expired; reload the page and try again.")
    return form


def _refused(incident: Incident, exc: RollbackRefused):
    return render_template("incidents/suspects.html", incident=incident, refused=exc.reasons,
                           **suspects_context(incident)), exc.status
