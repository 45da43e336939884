"""Single sign-on pages: start a sign-in at the provider, and its callback."""
from __future__ import annotations

from flask import abort, current_app, flash, render_template, request
from flask_login import login_user

from portal.auth import claims, oidc, oidc_accounts
from portal.auth.access import audit_action
from portal.auth.blueprint import oidc_bp as bp
from portal.extensions import db
from portal.security import events, sessions
from portal.security.redirects import safe_redirect, safe_target

MAX_LOGIN_HINT = 254


@bp.record_once
def _init(state) -> None:
    oidc.init_app(state.app)


def _refused(reason: str, message: str, status: int, email: str | None = None):
    events.record("login_failed", actor_email=email, details={"reason": f"sso:{reason}"})
    return render_template("auth/sso_refused.html", message=message), status


@bp.get("/login/sso")
def start():
    """Send the browser to the identity provider.

    A link rather than a form: the portal's CSP lets forms submit only to the portal, and
    this request leaves for the provider. It writes no data, only the sign-in's state into
    the signed session cookie.
    """
    if not oidc.is_configured(current_app.config):
        abort(404)
    hint = (request.args.get("login_hint") or "").strip()
    if len(hint) > MAX_LOGIN_HINT or "\x00" in hint:
        abort(400)
    try:
        return oidc.authorize_redirect(next_url=safe_target(request.args.get("next")),
                                       login_hint=hint or None)
    except oidc.SignInFailed as exc:
        return _refused(exc.reason, str(exc), exc.status)


@bp.get("/login/sso/callback")
def callback():
    """Check the provider's answer, create or update the account, and sign the person in."""
    if not oidc.is_configured(current_app.config):
        abort(404)
    config = current_app.config
    try:
        identity = claims.identity(oidc.finish(), groups_claim=config["OIDC_GROUPS_CLAIM"],
                                   mapping=claims.GroupMapping.from_config(config))
    except oidc.SignInFailed as exc:
        return _refused(exc.reason, str(exc), exc.status)
    except claims.ClaimsRefused as exc:
        return _refused(exc.reason, str(exc), 403)
    try:
        result = oidc_accounts.sign_in(session=db.session, identity=identity,
                                       issuer=config["OIDC_ISSUER"])
    except claims.ClaimsRefused as exc:
        db.session.rollback()
        return _refused(exc.reason, str(exc), 403, identity.email)
    user = result.user
    login_user(user)
    sessions.start(user)
    audit_action("auth.sso_login", actor=user, target_type="user", target_id=user.id,
                 tenant_id=user.tenant_id,
                 details={"created": result.created, "roles": list(user.roles),
                          "previous_roles": list(result.previous_roles),
                          "groups": list(identity.groups)[:50],
                          "teams": list(identity.team_slugs)})
    flash(f"Signed in as {user.name}.", "success")
    return safe_redirect(oidc.pop_next(), "home.index")
