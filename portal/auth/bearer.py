"""Requests authenticated by `Authorization: Bearer <API token>` instead of a session.

A request that carries a bearer token is judged by that token alone: the session cookie is
ignored (the user loader declines), so the request has no ambient credential a third-party
page could ride on, and it is exempt from the CSRF check that cookie sessions keep. A token
that does not resolve ends the request with a 401 and a JSON body saying why, before any
view runs. The owner is loaded with only the roles the token carries, and a tenant-bound
token scopes the request's queries to that tenant exactly as a tenant viewer's session is.
"""
from __future__ import annotations

from flask import Flask, current_app, g, jsonify, request
from flask_login import current_user
from sqlalchemy.orm.attributes import set_committed_value

from portal.auth import api_tokens
from portal.extensions import csrf, db, login_manager
from portal.security import events

SCIM_ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"
REASONS = {
    "missing": "The Authorization header has no token after `Bearer`.",
    "malformed": "That is not a Meridian API token (they start with `mpt_`).",
    "unknown": "The token is not known; it may have been mistyped.",
    "revoked": "The token was revoked.",
    "expired": "The token has expired; create a new one on the API tokens page.",
    "owner_inactive": "The token's owner no longer has an active account.",
    "tenant_changed": "The token's owner is no longer bound to the token's tenant.",
}


def own_credentials(view):
    """Mark a view that checks its own bearer credential (a webhook's shared secret, say):
    API-token resolution leaves its requests alone, and the view must refuse by itself."""
    view.own_bearer_credentials = True
    return view


def _has_own_credentials() -> bool:
    view = current_app.view_functions.get(request.endpoint or "")
    return getattr(view, "own_bearer_credentials", False)


def presented() -> str | None:
    """The bearer secret of this request ('' for a bare `Bearer`), None without one (and
    for views that check their own bearer credential)."""
    if _has_own_credentials():
        return None
    scheme, _, value = request.headers.get("Authorization", "").strip().partition(" ")
    return value.strip() if scheme.lower() == "bearer" else None


def resolution() -> api_tokens.Resolved | None:
    """How this request's bearer token resolved (None for session or anonymous requests)."""
    return g.get("bearer")


def _load_from_token(_request):
    secret = presented()
    if secret is None:
        return None
    resolved = (api_tokens.resolve(session=db.session, secret=secret) if secret
                else api_tokens.Resolved(None, None, reason="missing"))
    g.bearer = resolved
    if resolved.user is None:
        return None
    # The owner with the token's roles only, for this request: set as the loaded value, so
    # it is never written back and no role-change listener takes it for an edit.
    set_committed_value(resolved.user, "roles", list(resolved.roles))
    if resolved.token.tenant_id is not None:
        db.session.info["tenant_id"] = resolved.token.tenant_id
    return resolved.user


def refused(reason: str):
    """The 401 for a token that did not resolve, as SCIM or plain JSON."""
    message = REASONS.get(reason, "The token is not valid.")
    if request.path.startswith("/scim/"):
        response = jsonify(schemas=[SCIM_ERROR], status="401", detail=message)
        response.mimetype = "application/scim+json"
    else:
        response = jsonify(error="invalid_token", reason=reason, message=message)
    response.status_code = 401
    response.headers["WWW-Authenticate"] = (
        f'Bearer realm="meridian-portal", error="invalid_token", error_description="{message}"')
    response.headers["Cache-Control"] = "no-store"
    return response


def _session_only():
    response = jsonify(error="session_only",
                       message="Sign-in and API tokens are managed from a browser session.")
    response.status_code = 403
    return response


def _authenticate():
    if presented() is None:
        if current_app.config["WTF_CSRF_ENABLED"]:
            csrf.protect(apply_exemptions=True)
        return None
    if current_user.is_authenticated:
        g.csrf_valid = True  # no cookie is involved: the token itself is the credential
        if (request.blueprint or "").split(".")[0] == "auth" and request.blueprint != "auth.scim":
            # Sign-in, sign-out and token management belong to a person's browser session:
            # a token must not end its owner's sessions or mint more tokens.
            return _session_only()
        return None
    resolved = resolution() or api_tokens.Resolved(None, None, reason="missing")
    token = resolved.token
    events.record("token_refused", actor_email=token.user.email if token else None,
                  details={"reason": resolved.reason, "token_id": token.id if token else None,
                           "path": request.path[:200]})
    return refused(resolved.reason or "unknown")


def init_app(app: Flask) -> None:
    """Resolve bearer tokens on every request; CSRF is checked here for everything else."""
    login_manager.request_loader(_load_from_token)
    # CSRFProtect's own hook would run before a token could exempt the request; this hook
    # makes the same check for every request without a bearer token.
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False
    app.before_request(_authenticate)
