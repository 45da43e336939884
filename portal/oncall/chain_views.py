"""Named escalation chains and the routes that send alerts to them (a child blueprint of
`oncall`, shown on the escalation policies page). Managers (and admins) change them; every
change is audited."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for

from portal.auth.access import audit_action, require_roles
from portal.extensions import db
from portal.oncall import escalation, forms, service, step_forms
from portal.oncall.blueprint import chains_bp as bp
from portal.oncall.escalation_models import EscalationRoute
from portal.oncall.service import OncallError

EDITORS = ("manager",)  # admins pass every role check


def _chain(chain_id: int):
    chain = escalation.get_chain(session=db.session, chain_id=chain_id)
    if chain is None:
        abort(404)
    return chain


def _editor(chain, form, error=None, status=200):
    return render_template("oncall/chain_edit.html", chain=chain, form=form, error=error), status


def _save(chain, form):
    """Validate and store the form; a redirect, or the editor again with the reason (422)."""
    if not form.validate_on_submit():
        return _editor(chain, form, status=422)
    try:
        saved = escalation.set_chain(
            session=db.session, chain=chain, name=form.name.data, description=form.description.data
            or "", steps=step_forms.specs_of(session=db.session, form=form))
    except OncallError as exc:
        return _editor(chain, form, error=str(exc), status=422)
    audit_action("oncall.chain_create" if chain is None else "oncall.chain_update",
                 target_type="escalation_chain", target_id=saved.id,
                 details={"name": saved.name, "steps": step_forms.audit_steps(saved.steps)})
    flash(f"Chain {saved.name} saved.", "success")
    return redirect(url_for("oncall.schedules.policies") + "#chains", 303)


@bp.route("/chains/new", methods=["GET", "POST"])
@require_roles(*EDITORS)
def new_chain():
    """Create a named chain."""
    form = forms.ChainForm()
    if request.method == "GET":
        return _editor(None, form)
    return _save(None, form)


@bp.route("/chains/<int:chain_id>", methods=["GET", "POST"])
@require_roles(*EDITORS)
def edit_chain(chain_id: int):
    """Change a chain's name, description and steps."""
    chain = _chain(chain_id)
    if request.method == "GET":
        form = forms.ChainForm(obj=chain)
        step_forms.fill(form, list(chain.steps))
        return _editor(chain, form)
    return _save(chain, forms.ChainForm())


@bp.post("/chains/<int:chain_id>/delete")
@require_roles(*EDITORS)
def delete_chain(chain_id: int):
    """Remove a chain and its routes."""
    chain = _chain(chain_id)
    name = chain.name
    escalation.delete_chain(session=db.session, chain=chain)
    audit_action("oncall.chain_delete", target_type="escalation_chain", target_id=chain_id,
                 details={"name": name})
    flash(f"Chain {name} deleted.", "success")
    return redirect(url_for("oncall.schedules.policies") + "#chains", 303)


def _route_refused(message: str):
    """The policies page again, the reason under the route form and what was typed kept
    (422): the generic error page would lose the matcher and lead away from the form."""
    return render_template("oncall/policies.html",
                           policies=service.list_policies(session=db.session),
                           chains=escalation.list_chains(session=db.session),
                           routes=escalation.list_routes(session=db.session),
                           describe=escalation.describe, route_error=message,
                           route_values=request.form), 422


@bp.post("/routes")
@require_roles(*EDITORS)
def add_route():
    """Send alerts a matcher selects to a chain (tried after the existing routes)."""
    form = forms.RouteForm()
    form.chain_id.choices = [(c.id, c.name) for c in escalation.list_chains(session=db.session)]
    if not form.validate_on_submit():
        return _route_refused("; ".join(
            f"{form[name].label.text}: {e}" for name, errors in form.errors.items()
            if name in form for e in errors if isinstance(e, str)) or "Check the route.")
    chain = _chain(form.chain_id.data)
    try:
        route = escalation.add_route(session=db.session, matcher=form.matcher.data, chain=chain,
                                     name=form.name.data or "")
    except OncallError as exc:
        return _route_refused(str(exc))
    audit_action("oncall.route_create", target_type="escalation_route", target_id=route.id,
                 details={"matcher": route.matcher, "chain": chain.name})
    flash(f"Alerts matching {route.matcher} now page with {chain.name}.", "success")
    return redirect(url_for("oncall.schedules.policies") + "#routes", 303)


@bp.post("/routes/<int:route_id>/delete")
@require_roles(*EDITORS)
def delete_route(route_id: int):
    """Stop routing alerts by this matcher."""
    route = db.session.get(EscalationRoute, route_id)
    if route is None:
        abort(404)
    details = {"matcher": route.matcher, "chain": route.chain.name}
    escalation.delete_route(session=db.session, route=route)
    audit_action("oncall.route_delete", target_type="escalation_route", target_id=route_id,
                 details=details)
    return redirect(url_for("oncall.schedules.policies") + "#routes", 303)
