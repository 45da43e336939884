"""The tenant status page, its JSON summary, subscriptions and maintenance planning.

Tenant viewers see only their own tenant's page (another tenant's is a 404, as everywhere);
Meridian staff see every tenant's. Confirm and unsubscribe links work without an account:
the signed token is the permission.
"""
from __future__ import annotations

from flask import (
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from portal.auth.access import audit_action, require_roles
from portal.extensions import db, limiter
from portal.rendering import page_or_fragment
from portal.statuspage import service, subscriptions, summary
from portal.statuspage.blueprint import READERS, STAFF, bp
from portal.statuspage.forms import MaintenanceForm, SubscribeForm
from portal.tenants import service as tenants


def _tenant(slug: str):
    tenant = tenants.get_by_slug(session=db.session, slug=slug[:63])
    if tenant is None or current_user.tenant_id not in (None, tenant.id):
        abort(404)
    return tenant


def _subscribe_form(status) -> SubscribeForm:
    form = SubscribeForm()
    form.component.choices = [SelectChoice("", "All components")] + [
        SelectChoice(c.slug, c.name) for c in status.components]
    return form


def _render(status, form, http_status=200):
    return page_or_fragment("statuspage/page.html", "statuspage/_components.html",
                            http_status=http_status, status=status, form=form,
                            can_plan=current_user.has_role(*STAFF))


@bp.get("/<slug>")
@require_roles(*READERS)
def show(slug: str):
    """A tenant's status page; an htmx poll gets the components fragment only."""
    status = service.page(session=db.session, tenant=_tenant(slug))
    return _render(status, _subscribe_form(status))


@bp.get("/<slug>/api/v2/summary.json")
@require_roles(*READERS)
def summary_json(slug: str):
    """The page as Statuspage-compatible JSON, never cached."""
    status = service.page(session=db.session, tenant=_tenant(slug))
    response = jsonify(summary.summary(status, url=url_for("statuspage.show", slug=slug,
                                                           _external=True)))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/<slug>/subscriptions")
@require_roles(*READERS)
@limiter.limit("20 per hour")  # each subscription mails a stranger's address once
def subscribe(slug: str):
    """Subscribe an e-mail address or webhook; a confirmation link goes to it."""
    status = service.page(session=db.session, tenant=_tenant(slug))
    form = _subscribe_form(status)
    if not form.validate_on_submit():
        return _render(status, form, 422)
    try:
        sub = subscriptions.subscribe(
            session=db.session, tenant=status.tenant, channel=form.channel.data,
            target=form.target.data, component=form.component.data or "",
            components={c.slug: c.name for c in status.components},
            channels=subscriptions.Channels.from_config(current_app.config))
    except ValueError as exc:
        form.target.errors = [*form.target.errors, str(exc)]
        return _render(status, form, 422)
    audit_action("statuspage.subscribe", target_type="statuspage_subscription",
                 target_id=sub.id, tenant_id=status.tenant.id,
                 details={"channel": sub.channel, "component": sub.component or "all"})
    flash("Check the address for a confirmation link.", "success")
    return redirect(url_for("statuspage.show", slug=slug), 303)


def _signed(token: str, action: str) -> int:
    try:
        return subscriptions.read_token(current_app.config["SECRET_KEY"], token, action=action)
    except ValueError as exc:
        abort(400, description=str(exc))


@bp.route("/subscriptions/<any(confirm, unsubscribe):action>/<token>", methods=["GET", "POST"])
def by_link(action: str, token: str):
    """A link from a notice: GET asks (GET never writes), POST confirms or unsubscribes."""
    sub_id = _signed(token, action)
    if request.method == "GET":
        return render_template("statuspage/link.html", action=action, token=token)
    change = subscriptions.confirm if action == "confirm" else subscriptions.unsubscribe
    sub = change(session=db.session, subscription_id=sub_id)
    if sub is None:
        abort(404, description="This subscription no longer exists.")
    audit_action(f"statuspage.{action}", target_type="statuspage_subscription",
                 target_id=sub.id, tenant_id=sub.tenant_id)
    return render_template("statuspage/link.html", action=action, done=True)


def _maintenance_form(status) -> MaintenanceForm:
    form = MaintenanceForm()
    form.components.choices = [SelectChoice(c.slug, c.name) for c in status.components]
    return form


@bp.route("/<slug>/maintenance", methods=["GET", "POST"])
@require_roles(*STAFF)
def plan_maintenance(slug: str):
    """Staff plan a maintenance window on some components (shown on every tenant's page)."""
    status = service.page(session=db.session, tenant=_tenant(slug))
    form = _maintenance_form(status)
    if request.method == "GET":
        return render_template("statuspage/maintenance.html", form=form, status=status)
    if not form.validate_on_submit():
        return render_template("statuspage/maintenance.html", form=form, status=status), 422
    starts_at, ends_at = form.window()
    try:
        window = service.schedule_maintenance(
            session=db.session, title=form.title.data, description=form.description.data or "",
            service_slugs=form.components.data, starts_at=starts_at, ends_at=ends_at,
            actor_email=current_user.email, known_slugs={c.slug for c in status.components})
    except ValueError as exc:
        form.components.errors = [*form.components.errors, str(exc)]
        return render_template("statuspage/maintenance.html", form=form, status=status), 422
    audit_action("statuspage.maintenance", target_type="statuspage_maintenance",
                 target_id=window.id, details={"components": window.service_slugs,
                                               "starts_at": starts_at.isoformat(),
                                               "ends_at": ends_at.isoformat()})
    return redirect(url_for("statuspage.show", slug=slug), 303)
