"""Views that change SLO data: spec create/edit/delete, OpenSLO import, freeze overrides.

Kept apart from slo_views.py, the reading side.
"""
from __future__ import annotations

from decimal import Decimal

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from portal.auth.access import audit_action, require_roles
from portal.catalog import service as catalog
from portal.db import utcnow
from portal.extensions import db
from portal.slo import backfill, openslo, openslo_windows, spec_options, spec_words, specs
from portal.slo import service as slo
from portal.slo.blueprint import EDITORS, bp
from portal.slo.forms import ImportForm, OverrideForm, SloForm
from portal.slo.models import PolicyOverride


def _form(obj=None) -> SloForm:
    form = SloForm(obj=obj)
    form.service.choices = [SelectChoice(s.slug, s.name) for s in
                            catalog.list_services(session=db.session, kind="service")]
    if obj is not None and request.method == "GET":
        form.service.data = obj.service.slug
        form.window_kind.data = "calendar" if obj.is_calendar else "rolling"
        if obj.is_calendar:
            form.calendar_duration.data = obj.window_duration
            form.calendar_start.data = f"{obj.calendar_start:%Y-%m-%d %H:%M}"
        form.calendar_time_zone.data = obj.calendar_time_zone or "UTC"
        if obj.time_slice_target is not None:
            form.slice_target_pct.data = Decimal(spec_words.percent_of(obj.time_slice_target))
    return form


def _kept_duration(existing, options: dict) -> str | None:
    """A rolling window keeps its shorthand as imported (4w) while it still agrees."""
    if options["window_duration"] or existing is None or not existing.window_duration:
        return options["window_duration"]
    try:
        days = openslo_windows.rolling_days(existing.window_duration)
    except ValueError:
        return None
    return existing.window_duration if days == options["window_days"] else None


def _clean(form: SloForm) -> tuple[specs.SpecData, dict]:
    """The spec and the OpenSLO options of a submitted form; SpecInvalid lists both's errors."""
    raw = {f: getattr(form, f).data for f in specs.FIELDS}
    errors: dict[str, str] = {}
    try:
        options = spec_options.clean(form.data, now=utcnow())
        raw["window_days"] = options.pop("window_days")
    except specs.SpecInvalid as exc:
        errors.update(exc.errors)
        options = {}
    try:
        spec = specs.clean(raw)
    except specs.SpecInvalid as exc:
        errors = {**exc.errors, **errors}
    if errors:
        raise specs.SpecInvalid(errors)
    return spec, options


def _save(form: SloForm, existing=None):
    """Validate through specs.clean and spec_options.clean; put their messages on the form
    fields on failure."""
    if not form.validate_on_submit():
        return None
    service = catalog.get_service(session=db.session, slug=form.service.data)
    assert service is not None  # the form accepts only a listed service's slug
    try:
        spec, options = _clean(form)
        options["window_duration"] = _kept_duration(existing, options)
        if existing is None:
            saved = specs.create(session=db.session, service=service, spec=spec)
        else:
            if existing.service_id != service.id:
                existing.service_id = service.id
                db.session.flush()
            saved = specs.update(session=db.session, slo=existing, spec=spec)
    except specs.SpecInvalid as exc:
        for field, message in exc.errors.items():
            getattr(form, field).errors = [*getattr(form, field).errors, message]
        return None
    for column, value in options.items():
        setattr(saved, column, value)
    db.session.flush()
    return saved


@bp.route("/new", methods=["GET", "POST"])
@require_roles(*EDITORS)
def create():
    """A new SLO for a service."""
    form = _form()
    if request.method == "GET" and request.args.get("service"):
        form.service.data = request.args["service"]
    saved = _save(form)
    if saved is None:
        return render_template("slo/form.html", form=form, slo=None), 422 if form.errors else 200
    audit_action("slo.create", target_type="slo", target_id=saved.id,
                 details={"service": saved.service.slug, "name": saved.name})
    backfill.schedule(session=db.session, slo_id=saved.id)
    return redirect(url_for("slo.detail", slo_id=saved.id), 303)


@bp.route("/<int:slo_id>/edit", methods=["GET", "POST"])
@require_roles(*EDITORS)
def edit(slo_id: int):
    """Change an SLO's spec."""
    existing = specs.get(session=db.session, slo_id=slo_id) or abort(404)
    form = _form(existing)
    saved = _save(form, existing)
    if saved is None:
        return (render_template("slo/form.html", form=form, slo=existing),
                422 if form.errors else 200)
    audit_action("slo.update", target_type="slo", target_id=saved.id,
                 details={"service": saved.service.slug, "name": saved.name,
                          "objective": str(saved.objective)})
    return redirect(url_for("slo.detail", slo_id=saved.id), 303)


@bp.post("/<int:slo_id>/delete")
@require_roles(*EDITORS)
def delete(slo_id: int):
    """Remove an SLO with its samples."""
    existing = specs.get(session=db.session, slo_id=slo_id) or abort(404)
    details = {"service": existing.service.slug, "name": existing.name}
    specs.delete(session=db.session, slo=existing)
    audit_action("slo.delete", target_type="slo", target_id=slo_id, details=details)
    return redirect(url_for("slo.index"), 303)


@bp.route("/import", methods=["GET", "POST"])
@require_roles(*EDITORS)
def import_openslo():
    """Create or update SLOs from pasted OpenSLO YAML."""
    form = ImportForm()
    if form.validate_on_submit():
        try:
            imported = openslo.import_documents(session=db.session, text=form.document.data)
        except specs.SpecInvalid as exc:
            form.document.errors = [message if where == "document" else f"{where}: {message}"
                                    for where, message in exc.errors.items()]
        else:
            audit_action("slo.import", target_type="slo", target_id=None,
                         details={"slos": [f"{s.service.slug}/{s.name}" for s in imported]})
            for saved in imported:
                backfill.schedule(session=db.session, slo_id=saved.id)
            flash(f"Imported {len(imported)} SLO(s).")
            return redirect(url_for("slo.index"), 303)
    return render_template("slo/import.html", form=form), 422 if form.errors else 200


@bp.post("/services/<slug>/override")
@require_roles("manager")
def grant_override(slug: str):
    """A manager lets a frozen service deploy for a while, with a written justification."""
    service = catalog.get_service(session=db.session, slug=slug) or abort(404)
    form = OverrideForm()
    if not form.validate_on_submit():
        return render_template("slo/override.html", form=form, service=service), 422
    override = slo.grant_override(session=db.session, service=service,
                                  justification=form.justification.data,
                                  hours=form.hours.data, actor_email=current_user.email)
    audit_action("slo.override_grant", target_type="service", target_id=service.slug,
                 details={"override_id": override.id, "hours": form.hours.data,
                          "justification": override.justification})
    return redirect(url_for("catalog.service_detail", slug=slug), 303)


@bp.post("/overrides/<int:override_id>/revoke")
@require_roles("manager")
def revoke_override(override_id: int):
    """End an override early."""
    override = db.session.get(PolicyOverride, override_id) or abort(404)
    slo.revoke_override(session=db.session, override=override, actor_email=current_user.email)
    audit_action("slo.override_revoke", target_type="service", target_id=override.service.slug,
                 details={"override_id": override.id})
    return redirect(url_for("catalog.service_detail", slug=override.service.slug), 303)
