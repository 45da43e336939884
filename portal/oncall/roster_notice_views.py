"""Marking a schedule's roster notice (a deprovisioned person's shifts) as handled."""
from flask import abort, flash, redirect, url_for
from flask_login import current_user

from portal.auth.access import audit_action, require_roles
from portal.extensions import db
from portal.oncall import roster_notices, service
from portal.oncall.blueprint import roster_notices_bp as bp


@bp.post("/schedules/<slug>/roster-notices/<int:notice_id>/resolve")
@require_roles("manager")
def resolve(slug: str, notice_id: int):
    """A manager reassigned the shifts: the notice leaves the schedule page."""
    schedule = service.get_schedule(session=db.session, slug=slug)
    if schedule is None:
        abort(404)
    try:
        notice = roster_notices.resolve(session=db.session, schedule=schedule,
                                        notice_id=notice_id, by=current_user.email)
    except LookupError:
        abort(404)
    audit_action("oncall.roster_notice_resolve", target_type="schedule",
                 target_id=schedule.slug, details={"notice_id": notice.id,
                                                   "person": notice.person_email})
    flash(f"Notice about {notice.person_name} marked handled.", "success")
    return redirect(url_for("oncall.schedules.show", slug=slug), 303)
