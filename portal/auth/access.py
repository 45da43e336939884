"""Authorization and auditing as seen from a request: one decorator, one audit helper."""
from __future__ import annotations

from functools import wraps

from flask import abort, g, request
from flask_login import current_user

from portal.auth import audit
from portal.auth.models import User
from portal.extensions import db, login_manager


def require_roles(*roles: str):
    """Allow the view to users holding any of `roles` (admins pass every internal check).

    Anonymous users are sent to the login page; signed-in users without the role get 403.
    """
    def decorate(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if roles and not current_user.has_role(*roles):
                abort(403)
            return view(*args, **kwargs)
        wrapped.required_roles = roles
        return wrapped
    return decorate


def request_origin() -> audit.Origin:
    """Client IP and request id of the current request."""
    return audit.Origin(ip=request.remote_addr, request_id=g.get("request_id"))


def audit_action(action: str, *, actor: User | None = None, **fields) -> None:
    """Record an audit entry for the current request and mark the request as audited."""
    if actor is None and current_user.is_authenticated:
        actor = current_user._get_current_object()
    audit.record(session=db.session, action=action, actor=actor, origin=request_origin(),
                 **fields)
    g.audited = True
