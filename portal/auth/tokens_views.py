"""API tokens: each person's page under their account, and the admins' list of all tokens.

Tokens are managed from a signed-in session only (`portal.auth.bearer` refuses tokens on
these pages): a token cannot mint or revoke tokens, so a leaked one never outlives its
own expiry.
"""
from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, url_for
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from portal.auth import api_tokens
from portal.auth.access import audit_action, require_roles
from portal.auth.blueprint import tokens_bp as bp
from portal.auth.tokens_forms import TokenForm
from portal.extensions import db
from portal.tenants import service as tenants


def _form(*, fresh: bool = False) -> TokenForm:
    user = current_user._get_current_object()
    extra = {"formdata": None} if fresh else {}  # a blank form after a token was created
    form = TokenForm(max_days=current_app.config["API_TOKEN_MAX_DAYS"], **extra)
    form.scopes.choices = [SelectChoice(s, s) for s in api_tokens.grantable_scopes(user)]
    form.tenant.choices = [SelectChoice("", "All tenants my roles allow")]
    if user.tenant_id is None:
        form.tenant.choices += [SelectChoice(t.slug, t.name)
                                for t in tenants.list_all(session=db.session)]
    return form


def _page(form: TokenForm, *, issued=None, status: int = 200):
    mine = api_tokens.list_for(session=db.session, owner=current_user._get_current_object())
    response = current_app.make_response((render_template(
        "auth/tokens.html", form=form, tokens=mine, issued=issued,
        status_of=api_tokens.status), status))
    response.headers["Cache-Control"] = "no-store"  # the page may show a secret once
    return response


@bp.get("/account/api-tokens")
@require_roles()
def index():
    """My API tokens and the form to create one."""
    return _page(_form())


@bp.post("/account/api-tokens")
@require_roles()
def create():
    """Create a token and show its secret, this once."""
    form = _form()
    if not form.validate():
        return _page(form, status=422)
    tenant = tenants.get_by_slug(session=db.session, slug=form.tenant.data) \
        if form.tenant.data else None
    try:
        issued = api_tokens.create(
            session=db.session, owner=current_user._get_current_object(), name=form.name.data,
            scopes=form.scopes.data, days=form.days, tenant_id=tenant.id if tenant else None,
            max_days=current_app.config["API_TOKEN_MAX_DAYS"])
    except api_tokens.TokenError as exc:
        form.scopes.errors = [str(exc)]
        return _page(form, status=422)
    token = issued.token
    audit_action("auth.api_token_create", target_type="api_token", target_id=token.id,
                 tenant_id=token.tenant_id, details={
                     "name": token.name, "scopes": token.scopes, "prefix": token.prefix,
                     "expires_at": token.expires_at.isoformat()})
    return _page(_form(fresh=True), issued=issued, status=201)


def _revoke(token_id: int, *, admin: bool):
    token = api_tokens.get(session=db.session, token_id=token_id)
    if token is None or (not admin and token.user_id != current_user.id):
        abort(404)
    if api_tokens.revoke(token=token, by=current_user.email):
        audit_action("auth.api_token_revoke", target_type="api_token", target_id=token.id,
                     tenant_id=token.tenant_id, details={
                         "name": token.name, "owner": token.user.email, "by_admin": admin})
        flash(f"Token {token.name} ({token.prefix}…) revoked.", "success")
    return token


@bp.post("/account/api-tokens/<int:token_id>/revoke")
@require_roles()
def revoke(token_id: int):
    """Revoke one of my tokens."""
    _revoke(token_id, admin=False)
    return redirect(url_for("auth.tokens.index"), 303)


@bp.get("/admin/api-tokens")
@require_roles("admin")
def admin_index():
    """Every API token of the portal, for admins."""
    return render_template("admin/api_tokens.html", status_of=api_tokens.status,
                           tokens=api_tokens.list_for(session=db.session))


@bp.post("/admin/api-tokens/<int:token_id>/revoke")
@require_roles("admin")
def admin_revoke(token_id: int):
    """Revoke anyone's token."""
    _revoke(token_id, admin=True)
    return redirect(url_for("auth.tokens.admin_index"), 303)
