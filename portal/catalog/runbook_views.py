"""Runbook pages: list, read, write; and the lookup that alerts and incidents link to."""
from flask import abort, redirect, render_template, request, url_for
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from portal.auth.access import audit_action, require_roles
from portal.catalog import runbooks
from portal.catalog import service as catalog
from portal.catalog.blueprint import RUNBOOK_EDITORS, STAFF, bp
from portal.catalog.forms import RunbookForm
from portal.extensions import db


@bp.get("/runbooks")
@require_roles(*STAFF)
def runbook_index():
    """Every runbook, general ones first."""
    return render_template("catalog/runbooks.html",
                           runbooks=runbooks.list_all(session=db.session))


@bp.get("/runbooks/lookup")
@require_roles(*STAFF)
def runbook_lookup():
    """Redirect to the runbook of an alert (`alertname`) or a service (`service`)."""
    alertname = (request.args.get("alertname") or "").strip()[:200] or None
    service_slug = (request.args.get("service") or "").strip()[:63] or None
    if not alertname and not service_slug:
        abort(400, description="Give an alertname or a service to look a runbook up.")
    found = catalog.runbook_for(session=db.session, service_slug=service_slug,
                                alertname=alertname)
    if found is None:
        abort(404, description="No runbook answers this alert or service yet; write one in "
                               "the catalog's runbooks.")
    return redirect(url_for("catalog.runbook_show", slug=found.slug), 303)


@bp.get("/runbooks/<slug>")
@require_roles(*STAFF)
def runbook_show(slug: str):
    """One runbook, rendered from sanitized Markdown."""
    runbook = runbooks.get(session=db.session, slug=slug) or abort(404)
    return render_template("catalog/runbook.html", runbook=runbook,
                           html=runbooks.render(runbook.body),
                           can_edit=current_user.has_role(*RUNBOOK_EDITORS))


def _form(runbook=None) -> RunbookForm:
    form = RunbookForm(obj=runbook)
    form.service.choices = [SelectChoice("", "General (no single entry)")] + [
        SelectChoice(s.slug, s.name) for s in catalog.list_services(session=db.session)]
    if runbook is not None and request.method == "GET":
        form.service.data = runbook.service.slug if runbook.service else ""
        form.alertnames.data = ", ".join(runbook.alertnames)
    return form


def _save(form: RunbookForm, existing=None):
    if existing is None and runbooks.get(session=db.session, slug=form.slug.data):
        form.slug.errors.append("A runbook already has this address.")
        return None
    service = catalog.get_service(session=db.session, slug=form.service.data) \
        if form.service.data else None
    runbook = runbooks.save(session=db.session, slug=existing.slug if existing else
                            form.slug.data, title=form.title.data, body=form.body.data,
                            service=service, alertnames=form.alert_list(),
                            actor_email=current_user.email)
    audit_action("catalog.runbook_create" if existing is None else "catalog.runbook_update",
                 target_type="runbook", target_id=runbook.id,
                 details={"slug": runbook.slug, "alertnames": runbook.alertnames})
    return runbook


@bp.route("/runbooks/new", methods=["GET", "POST"])
@require_roles(*RUNBOOK_EDITORS)
def runbook_new():
    """Write a new runbook."""
    form = _form()
    if form.validate_on_submit() and (runbook := _save(form)) is not None:
        return redirect(url_for("catalog.runbook_show", slug=runbook.slug), 303)
    status = 422 if form.is_submitted() else 200
    return render_template("catalog/runbook_form.html", form=form, runbook=None), status


@bp.route("/runbooks/<slug>/edit", methods=["GET", "POST"])
@require_roles(*RUNBOOK_EDITORS)
def runbook_edit(slug: str):
    """Edit a runbook; every save is audited."""
    runbook = runbooks.get(session=db.session, slug=slug) or abort(404)
    form = _form(runbook)
    form.slug.data = runbook.slug  # the address of an existing runbook never changes
    if form.validate_on_submit():
        _save(form, existing=runbook)
        return redirect(url_for("catalog.runbook_show", slug=runbook.slug), 303)
    status = 422 if form.is_submitted() else 200
    return render_template("catalog/runbook_form.html", form=form, runbook=runbook), status
