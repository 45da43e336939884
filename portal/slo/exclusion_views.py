"""Views of SLO maintenance exclusions: the list with its form, create and delete (managers).

The SLO page shows the same list through the `slo_exclusions` template global.
"""
from __future__ import annotations

from flask import abort, redirect, render_template, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import StringField, TextAreaField
from wtforms.validators import Length, Optional

from portal.auth.access import audit_action, require_roles
from portal.extensions import db
from portal.slo import exclusions, specs
from portal.slo.blueprint import READERS, bp


class ExclusionForm(FlaskForm):
    """Field rules live in exclusions.clean; the lengths here only bound the input."""
    starts = StringField("Starts (local time)", validators=[Length(max=20)],
                         render_kw={"type": "datetime-local"})
    ends = StringField("Ends (one-off window)", validators=[Optional(), Length(max=20)],
                       render_kw={"type": "datetime-local"})
    time_zone = StringField("Time zone (IANA)", default="UTC", validators=[Length(max=64)])
    rrule = StringField("Repeats (RRULE, e.g. FREQ=WEEKLY;BYDAY=SU)",
                        validators=[Optional(), Length(max=300)])
    duration_minutes = StringField("Each lasts (minutes, recurring windows)",
                                   validators=[Optional(), Length(max=6)])
    reason = TextAreaField("Reason", validators=[Length(max=exclusions.MAX_REASON)])


def _slo(slo_id: int):
    return specs.get(session=db.session, slo_id=slo_id) or abort(404)


def _page(slo, form: ExclusionForm, status: int = 200):
    return render_template("slo/exclusions.html", slo=slo, form=form,
                           exclusions=exclusions.list_for(session=db.session, slo_id=slo.id),
                           describe=exclusions.describe), status


@bp.get("/<int:slo_id>/exclusions", endpoint="exclusions")
@require_roles(*READERS)
def index(slo_id: int):
    """An SLO's maintenance exclusions, with the form for managers."""
    return _page(_slo(slo_id), ExclusionForm())


@bp.post("/<int:slo_id>/exclusions", endpoint="create_exclusion")
@require_roles("manager")
def create(slo_id: int):
    """Add a one-off or recurring exclusion; invalid input comes back with messages (422)."""
    slo, form = _slo(slo_id), ExclusionForm()
    if not form.validate_on_submit():
        return _page(slo, form, 422)
    try:
        data = exclusions.clean(form.data)
    except exclusions.ExclusionInvalid as exc:
        for name, message in exc.errors.items():
            form[name].errors = [*form[name].errors, message]
        return _page(slo, form, 422)
    made = exclusions.create(session=db.session, slo=slo, data=data,
                             actor_email=current_user.email)
    audit_action("slo.exclusion_create", target_type="slo", target_id=slo.id,
                 details={"exclusion_id": made.id, "window": exclusions.describe(made),
                          "reason": made.reason})
    return redirect(url_for("slo.detail", slo_id=slo.id, _anchor="exclusions"), 303)


@bp.post("/exclusions/<int:exclusion_id>/delete", endpoint="delete_exclusion")
@require_roles("manager")
def delete(exclusion_id: int):
    """Remove an exclusion: its windows count against the budget again."""
    found = exclusions.get(session=db.session, exclusion_id=exclusion_id) or abort(404)
    slo_id, details = found.slo_id, {"exclusion_id": found.id,
                                     "window": exclusions.describe(found),
                                     "reason": found.reason}
    exclusions.delete(session=db.session, exclusion=found)
    audit_action("slo.exclusion_delete", target_type="slo", target_id=slo_id, details=details)
    return redirect(url_for("slo.detail", slo_id=slo_id, _anchor="exclusions"), 303)


@bp.app_template_global("slo_exclusions")
def panel(slo) -> dict:
    """The SLO page's exclusions list and an empty form."""
    return {"slo": slo, "exclusions": exclusions.list_for(session=db.session, slo_id=slo.id),
            "describe": exclusions.describe, "form": ExclusionForm()}
