"""The import page: read Grafana OnCall (its API, or its Terraform files) or Opsgenie (its
API, in the account's region), show a dry run, then apply exactly the plan the dry run
showed (a child blueprint of `oncall`).

The API token is used for the one request that reads the source and is never stored,
logged, audited or sent back; the dry-run page carries the signed plan instead.
"""
from __future__ import annotations

from flask import abort, current_app, make_response, render_template, request
from flask_login import current_user

from portal.auth.access import audit_action, request_origin, require_roles
from portal.extensions import db
from portal.oncall.blueprint import importing_bp as bp
from portal.oncall.importing import apply as importer
from portal.oncall.importing import plan_codec
from portal.oncall.importing.oncall_client import OnCallImportError, plan_from_api
from portal.oncall.importing.oncall_terraform import (
    MAX_FILE_BYTES,
    TerraformError,
    plan_from_terraform,
)
from portal.oncall.importing.opsgenie_import import OpsgenieError, plan_from_region
from portal.oncall.importing.plan import ImportPlan

ROLES = ("manager",)  # admins hold every internal role
SOURCES = ("api", "terraform", "opsgenie")


def _page(status: int = 200, **context):
    response = make_response(render_template("oncall/import.html", sources=SOURCES,
                                             **context), status)
    response.headers["Cache-Control"] = "no-store"
    return response


def _plan_from_form() -> ImportPlan:
    source = request.form.get("source", "")
    if source == "api":
        return plan_from_api(
            base_url=request.form.get("url", ""), token=request.form.get("token", ""),
            allowlist=tuple(current_app.config["OUTBOUND_ALLOWED_HOSTS"] or ()))
    if source == "terraform":
        files = [(f.filename or "", f.read(MAX_FILE_BYTES + 1))
                 for f in request.files.getlist("files") if f.filename]
        return plan_from_terraform(files, email_domain=request.form.get("email_domain"))
    if source == "opsgenie":
        return plan_from_region(
            region=request.form.get("region", ""), api_key=request.form.get("api_key", ""),
            allowlist=tuple(current_app.config["OUTBOUND_ALLOWED_HOSTS"] or ()))
    abort(400, description="Choose Grafana OnCall's API or Terraform files, or Opsgenie, as "
                           "the source.")


@bp.get("/import")
@require_roles(*ROLES)
def form():
    """Pick the source of the import."""
    return _page()


@bp.post("/import/dry-run")
@require_roles(*ROLES)
def dry_run():
    """Read the source and show what an apply would create, change and leave out."""
    try:
        plan = _plan_from_form()
    except (OnCallImportError, TerraformError, OpsgenieError) as exc:
        return _page(400, error=str(exc), chosen=request.form.get("source"),
                     url=request.form.get("url", "")[:500])
    result = importer.preview(session=db.session, plan=plan,
                              actor=current_user._get_current_object())
    return _page(plan=plan, result=result, chosen=request.form.get("source"),
                 signed=plan_codec.sign(plan, secret=current_app.config["SECRET_KEY"]))


dry_run.audit_exempt = True  # it reads the source and rolls its preview back: no change


@bp.post("/import/apply")
@require_roles(*ROLES)
def apply():
    """Apply the plan the dry run showed."""
    try:
        plan = plan_codec.unsign(request.form.get("plan", ""),
                                 secret=current_app.config["SECRET_KEY"])
    except plan_codec.PlanExpired as exc:
        return _page(400, error=str(exc))
    result = importer.apply_plan(session=db.session, plan=plan,
                                 actor=current_user._get_current_object(),
                                 origin=request_origin(), record=False)
    audit_action("oncall.import_apply", target_type="oncall_import", target_id=plan.source,
                 details=result.as_dict())
    return _page(plan=plan, result=result, applied=True)
