"""Who may use the on-call pages: the on-call roles, and anyone rostered on a schedule."""
from __future__ import annotations

from functools import wraps

from flask import abort
from flask_login import current_user

from portal.extensions import db, login_manager
from portal.oncall import service

ONCALL = ("oncall", "manager")


def require_responder(view):
    """Allow the view to on-call responders: the on-call roles and rostered people.

    Anonymous users are sent to the login page; anyone else gets 403.
    """
    @wraps(view)
    def wrapped(*args, **kwargs):
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        if not service.may_respond(session=db.session, user=current_user):
            abort(403)
        return view(*args, **kwargs)
    wrapped.required_roles = ONCALL
    return wrapped


def may_see_page(user, page, notifications) -> bool:
    """On-call roles see every page; a rostered person the pages addressed to them."""
    return user.has_role(*ONCALL) or page.assignee_id == user.id \
        or any(n.user_id == user.id for n in notifications)
