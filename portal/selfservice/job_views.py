"""Self-service pages: template catalog, request forms, jobs with live logs, approvals."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from portal.auth.access import audit_action, require_roles
from portal.catalog import service as catalog
from portal.catalog.models import Service
from portal.extensions import db
from portal.rendering import page_or_fragment, wants_fragment
from portal.selfservice import job_templates, policy, review, service
from portal.selfservice.blueprint import REQUESTERS, STAFF, bp, job_or_404, template_or_404
from portal.selfservice.forms import request_form
from portal.selfservice.parameters import ParamError

ACTIONS = {"confirm": service.confirm, "cancel": service.cancel, "retry": service.retry}


@bp.get("/")
@require_roles(*REQUESTERS)
def index():
    """The template catalog, my environments and my recent jobs."""
    return render_template(
        "selfservice/index.html", templates=job_templates.TEMPLATES.values(),
        environments=service.my_environments(session=db.session, user=current_user),
        jobs=service.jobs_of(session=db.session, user=current_user))


@bp.get("/templates/<slug>")
@require_roles(*REQUESTERS)
def new_request(slug: str):
    """The request form generated from the template's parameters."""
    template = template_or_404(slug)
    return _form_page(template, request_form(template, session=db.session), reasons=[])


def _form_page(template, form, *, reasons: list[str]) -> str:
    """The request form, with the warning about the service it would deploy (if any)."""
    checks = {}
    if "service" in form and template.action == "deploy":
        first = next(iter(form.service.choices), None)
        chosen = form.service.data or (first.value if first is not None else "")
        found = catalog.get_service(session=db.session, slug=chosen) if chosen else None
        checks = _critical_context(found, action=template.action,
                                   environment=form.environment.data if "environment" in form
                                   else None)
    return render_template("selfservice/request.html", template=template, form=form,
                           reasons=reasons, **checks)


@bp.get("/templates/<slug>/check/<field>")
@require_roles(*REQUESTERS)
def check_field(slug: str, field: str):
    """Inline validation of one field (htmx), without saving anything."""
    template = template_or_404(slug)
    param = next((p for p in template.params if p.name == field), None)
    if param is None:
        abort(404)
    form = request_form(template, session=db.session, formdata=request.args)
    try:
        param.clean(request.args.get(field), session=db.session)
        state = "ok"
    except ParamError as exc:
        form[field].errors = [str(exc)]
        state = "error"
    return render_template("selfservice/_param_field.html", template=template,
                           field=form[field], state=state)


@bp.get("/templates/<slug>/critical-checks")
@require_roles(*REQUESTERS)
def critical_checks(slug: str):
    """The warning about the chosen service's failing critical checks (htmx, nothing saved)."""
    template = template_or_404(slug)
    found = None
    if template.engine == "argocd":
        slug_arg = request.args.get("service", "")
        found = catalog.get_service(session=db.session, slug=slug_arg) if slug_arg else None
    return render_template("selfservice/_critical_checks.html", template=template,
                           **_critical_context(found, action=template.action,
                                               environment=request.args.get("environment")))


def _critical_context(service_obj: Service | None, *, action: str,
                      environment: str | None) -> dict:
    failing = (policy.critical_checks_warning(session=db.session, service_id=service_obj.id)
               if service_obj is not None and action == "deploy" else [])
    return {"checked_service": service_obj, "failing_checks": failing,
            "blocked": bool(failing) and environment == "prod"
            and policy.blocks_prod_on_critical_checks()}


@bp.post("/templates/<slug>")
@require_roles(*REQUESTERS)
def submit_request(slug: str):
    """Validate, check policy and queue the job; 422 with reasons when refused."""
    template = template_or_404(slug)
    form = request_form(template, session=db.session, formdata=request.form)
    try:
        job = service.request_job(session=db.session, template_slug=slug,
                                  raw=request.form.to_dict(), requester=current_user)
    except service.InvalidParameters as exc:
        for name, message in exc.errors.items():
            form[name].errors = [message]
        return _form_page(template, form, reasons=[]), 422
    except service.Refused as exc:
        return _form_page(template, form, reasons=exc.reasons), 422
    audit_action("selfservice.request", target_type="selfservice_job", target_id=job.id,
                 details={"template": slug, "params": job.params})
    return redirect(url_for(".job_detail", job_id=job.id), 303)


@bp.get("/jobs/<job_id>")
@require_roles(*STAFF)
def job_detail(job_id: str):
    """A job: status with who/when, plan and gate, outputs, and its live log."""
    job = job_or_404(job_id)
    lines = service.logs_after(session=db.session, job=job, after=0)
    # Only while the deploy can still be stopped (a finished job's page tells its history),
    # and only on the page: scoring renders the Helm chart, too slow for each status poll.
    polling = wants_fragment()
    checks = _critical_context(job.service if not (job.finished or polling) else None,
                               action=job.action, environment=job.tier)
    return page_or_fragment("selfservice/job.html", "selfservice/_job_status.html", job=job,
                            can=_permissions(job), lines=lines,
                            after=lines[-1].seq if lines else 0, **checks)


@bp.get("/jobs/<job_id>/log")
@require_roles(*STAFF)
def job_log(job_id: str):
    """Log lines after offset `after` (htmx tailing), plus the next poll while live."""
    job = job_or_404(job_id)
    after = request.args.get("after", default=0, type=int)
    lines = service.logs_after(session=db.session, job=job, after=max(after, 0))
    return render_template("selfservice/_log_lines.html", job=job, lines=lines,
                           after=lines[-1].seq if lines else after)


@bp.post("/jobs/<job_id>/<action>")
@require_roles(*REQUESTERS)
def job_action(job_id: str, action: str):
    """Confirm a plan, cancel, or retry as a new linked job."""
    job = job_or_404(job_id)
    if action not in ACTIONS:
        abort(404)
    if action == "cancel" and not _permissions(job)["cancel"]:
        abort(403, description="Only the requester or a manager cancels a job.")
    try:
        result = ACTIONS[action](session=db.session, job=job, user=current_user)
    except service.Refused as exc:
        abort(409, description=" ".join(exc.reasons))
    audit_action(f"selfservice.{action}", target_type="selfservice_job", target_id=job.id,
                 details={"new_job": str(result.id)} if result is not job else {})
    return redirect(url_for(".job_detail", job_id=result.id), 303)


@bp.get("/approvals")
@require_roles("manager")
def approvals():
    """Planned production jobs waiting for a second person's approval."""
    return render_template("selfservice/approvals.html",
                           jobs=service.pending_approvals(session=db.session, user=current_user))


@bp.post("/jobs/<job_id>/approval")
@require_roles("manager")
def decide(job_id: str):
    """Approve or reject a production job (never one's own), always with a comment."""
    job = job_or_404(job_id)
    try:
        decided = review.decide(session=db.session, job=job, user=current_user,
                                decision=request.form.get("decision"),
                                comment=request.form.get("comment"))
    except review.InvalidDecision as exc:
        flash(str(exc), "error")
        page, _ = job_detail(job_id)
        return page, 422
    except service.Refused as exc:
        abort(409, description=" ".join(exc.reasons))
    audit_action(f"selfservice.{decided.decision}", target_type="selfservice_job",
                 target_id=job.id, details={"template": job.template, "tier": job.tier,
                                            "comment": decided.comment})
    return redirect(url_for(".job_detail", job_id=job.id), 303)


@bp.post("/environments/<int:environment_id>/destroy")
@require_roles(*REQUESTERS)
def destroy(environment_id: int):
    """Plan the destroy of one of my environments (applied after I confirm)."""
    env = service.get_environment(session=db.session, environment_id=environment_id)
    if env is None:
        abort(404)
    try:
        job = service.destroy_environment(session=db.session, environment=env, user=current_user)
    except service.Refused as exc:
        abort(409, description=" ".join(exc.reasons))
    audit_action("selfservice.destroy", target_type="selfservice_environment", target_id=env.id,
                 details={"name": env.name, "job": str(job.id)})
    return redirect(url_for(".job_detail", job_id=job.id), 303)


def _permissions(job) -> dict[str, bool]:
    user = current_user
    mine = user.id == job.requested_by_id or user.has_role("admin")
    return {
        "confirm": job.status == "awaiting_approval" and job.gate == "confirm" and mine,
        "approve": (job.status == "awaiting_approval" and job.gate == "approval"
                    and user.has_role("manager") and user.id != job.requested_by_id),
        "cancel": not job.finished and (mine or user.has_role("manager")),
        "retry": job.status in ("failed", "cancelled") and user.has_role(*REQUESTERS),
    }


@bp.app_template_global()
def selfservice_service_jobs(service_obj: Service):
    """Recent self-service jobs (deploys, rollbacks) of a service, for its catalog page."""
    return service.service_jobs(session=db.session, service_id=service_obj.id)


@bp.app_template_global()
def selfservice_home(user, approvals: bool = True, jobs: list | None = None):
    """What the home panel shows: my environments and jobs, or approvals waiting for me
    (`approvals` False when the home already shows them; `jobs` the user's newest five
    when the home has already read them)."""
    data: dict[str, list] = {"environments": [], "jobs": [], "approvals": []}
    if user.has_role("developer"):
        data["environments"] = service.my_environment_names(session=db.session, user=user)
        data["jobs"] = jobs if jobs is not None else service.jobs_of(session=db.session,
                                                                     user=user, limit=5)
    if approvals and user.has_role("manager"):
        data["approvals"] = service.pending_approvals(session=db.session, user=user)
    return data

