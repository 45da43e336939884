"""Login, logout and the admin audit-log browser."""
from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_user, logout_user

from portal.auth import audit, oidc, service
from portal.auth.access import audit_action, require_roles
from portal.auth.blueprint import bp
from portal.auth.forms import AuditFilterForm, LoginForm
from portal.errors import render_error
from portal.extensions import db, htmx, limiter
from portal.rendering import page_or_fragment
from portal.security import events, sessions
from portal.security.redirects import safe_redirect


def _login_throttle_key() -> str:
    email = (request.form.get("email") or "").strip().lower()[:254]
    return f"login:{request.remote_addr}:{email}"


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], key_func=_login_throttle_key,
               methods=["POST"], deduct_when=lambda response: response.status_code != 303,
               error_message="Too many failed sign-in attempts. Wait a minute and try again.")
def login():
    """Sign in with e-mail and password."""
    if current_user.is_authenticated and request.method == "GET":
        return redirect(url_for("home.index"))
    form = LoginForm()
    sso = oidc.is_configured(current_app.config)
    if request.method == "GET":
        return render_template("auth/login.html", form=form, sso=sso)
    if not form.validate():
        return render_template("auth/login.html", form=form, sso=sso), 422
    result = service.authenticate(session=db.session, email=form.email.data,
                                  password=form.password.data,
                                  params=current_app.config["ARGON2_PARAMS"])
    if result.user is None:
        events.record("login_failed", actor_email=form.email.data.lower(),
                      details={"reason": result.reason})
        form.form_errors.append("Wrong e-mail or password.")
        return render_template("auth/login.html", form=form, sso=sso), 401
    if not oidc.local_password_allowed(result.user, current_app.config):
        events.record("login_failed", actor_email=result.user.email,
                      details={"reason": "password_not_break_glass"})
        form.form_errors.append("Sign in with single sign-on: passwords are kept only for "
                                "break-glass accounts.")
        return render_template("auth/login.html", form=form, sso=sso), 403
    login_user(result.user)
    sessions.start(result.user)
    audit_action("auth.login", actor=result.user, target_type="user", target_id=result.user.id)
    flash(f"Signed in as {result.user.name}.", "success")
    return safe_redirect(request.args.get("next"), "home.index")


def _provider_sign_out_page(end_session_url: str):
    """The page after the portal's sign-out that moves on to the provider's sign-out.

    A page, not a redirect: the sign-out form may only lead to the portal (CSP form-action).
    """
    return render_template("auth/sso_signed_out.html", end_session_url=end_session_url)


@bp.post("/logout")
@require_roles()
def logout():
    """Sign out (POST only, with the CSRF token)."""
    audit_action("auth.logout", target_type="user", target_id=current_user.id)
    sessions.end_all(current_user._get_current_object())  # a copied cookie dies with this one
    provider_sign_out = oidc.end_session_url()  # signed in through SSO: end that session too
    logout_user()
    flash("Signed out.", "info")
    if provider_sign_out:
        return _provider_sign_out_page(provider_sign_out)
    return redirect(url_for("auth.login"), code=303)


def _day_start(day) -> datetime | None:
    return datetime.combine(day, time.min, tzinfo=UTC) if day else None


@bp.get("/admin/audit")
@require_roles("admin")
def audit_log():
    """Browse and filter the audit log (newest first, keyset pagination)."""
    form = AuditFilterForm(request.args)
    if not form.validate():
        if htmx:
            return render_error(422, "; ".join(
                f"{form[name].label.text}: {' '.join(errs)}" for name, errs in form.errors.items()))
        return render_template("admin/audit.html", form=form, entries=[], next_before=None), 422
    until = _day_start(form.until.data)
    flt = audit.AuditFilter(
        actor=form.actor.data, action=form.action.data, target=form.target.data,
        ip=form.ip.data, outcome=form.outcome.data, since=_day_start(form.since.data),
        until=until + timedelta(days=1) if until else None)
    before = request.args.get("before", type=int)
    entries = audit.search(session=db.session, flt=flt, before_id=before, limit=50)
    next_before = entries[-1].id if len(entries) == 50 else None
    return page_or_fragment("admin/audit.html", "admin/_audit_rows.html", form=form,
                            entries=entries, next_before=next_before)
