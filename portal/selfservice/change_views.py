"""Change-safety fragments of the self-service pages: a deploy's live ArgoCD status, the
request form's error-budget panel and a rollback's preview (all reads; nothing saved)."""
from __future__ import annotations

from flask import abort, request

from portal.auth.access import require_roles
from portal.extensions import db
from portal.rendering import page_or_fragment
from portal.selfservice import deploy_status, freeze_view, rollback_diff, service
from portal.selfservice.blueprint import REQUESTERS, STAFF, bp, template_or_404

MAX_ARG = 64  # a service slug or an environment name is far shorter
MAX_TAG = 128  # an image tag (the deploy template's own limit)


def _arg(name: str, limit: int = MAX_ARG) -> str | None:
    value = request.args.get(name, "")
    if len(value) > limit or "\x00" in value:
        abort(400, description=f"{name} is not a valid choice.")
    return value or None


@bp.get("/jobs/<job_id>/argocd")
@require_roles(*STAFF)
def job_argocd(job_id: str):
    """The deploy's application in ArgoCD now: sync, health, operation, resources."""
    job = service.get_job(session=db.session, job_id=job_id)
    if job is None:
        abort(404)
    live = deploy_status.live_status(job=job)
    if live is None:
        abort(404, description="This job does not deploy through ArgoCD.")
    return page_or_fragment("selfservice/argocd_status.html", "selfservice/_argocd_status.html",
                            job=job, live=live, http_status=503 if live.error else 200)


@bp.get("/templates/<slug>/freeze")
@require_roles(*REQUESTERS)
def freeze_panel(slug: str):
    """The form's error-budget panel and submit button for the chosen service/environment."""
    template = template_or_404(slug)
    freeze = freeze_view.freeze_view(session=db.session, template=template,
                                     service_slug=_arg("service"),
                                     environment=_arg("environment"),
                                     image_tag=_arg("image_tag", MAX_TAG))
    return page_or_fragment("selfservice/freeze_panel.html", "selfservice/_freeze_panel.html",
                            template=template, freeze=freeze)


@bp.get("/templates/<slug>/rollback-preview")
@require_roles(*REQUESTERS)
def rollback_preview(slug: str):
    """What a rollback of the chosen service and environment would change."""
    template = template_or_404(slug)
    if template.action != "rollback":
        abort(404)
    found = rollback_diff.preview(session=db.session, service_slug=_arg("service"),
                                  environment=_arg("environment"))
    return page_or_fragment("selfservice/rollback_preview.html",
                            "selfservice/_rollback_preview.html", template=template,
                            preview=found)


@bp.app_template_global()
def selfservice_freeze_panel(template, form) -> freeze_view.FreezeView:
    """The error-budget panel of a request form, for what the form shows now."""
    return freeze_view.freeze_view(session=db.session, template=template,
                                   service_slug=freeze_view.form_choice(form, "service"),
                                   environment=freeze_view.form_choice(form, "environment"),
                                   image_tag=freeze_view.form_choice(form, "image_tag"))


@bp.app_template_global()
def selfservice_rollback_preview(template, form) -> rollback_diff.RollbackPreview | None:
    """The rollback preview of a request form, for what the form shows now."""
    return rollback_diff.preview(session=db.session,
                                 service_slug=freeze_view.form_choice(form, "service"),
                                 environment=freeze_view.form_choice(form, "environment"))
