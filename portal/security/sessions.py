"""Sessions that end: a per-user version checked on every request, idle and absolute limits.

The session cookie is signed but lives in the browser, so logging out only forgets it
there; a copy taken earlier would stay valid. Each session therefore carries the user's
`session_version` and its start and last-seen times, and is refused once the version was
bumped (logout, password or role change) or either time limit has passed.
"""
from __future__ import annotations

import time

from flask import current_app, session
from sqlalchemy import event

from portal.auth.models import User

VERSION_KEY, STARTED_KEY, SEEN_KEY = "_sv", "_started", "_seen"
FLASK_LOGIN_KEYS = ("_user_id", "_fresh", "_id", "_remember")
SEEN_RESOLUTION = 60  # seconds: refresh the last-seen time at most once a minute


def start(user: User) -> None:
    """Stamp a freshly signed-in session with the user's version and the current time."""
    now = int(time.time())
    session[VERSION_KEY] = user.session_version
    session[STARTED_KEY] = session[SEEN_KEY] = now


def end_all(user: User) -> None:
    """End every session of `user`, everywhere (the change is saved with the transaction)."""
    user.session_version = (user.session_version or 0) + 1


def is_current(user: User) -> bool:
    """True when this request's session is still valid for `user`; forgets it otherwise."""
    now = int(time.time())
    config = current_app.config
    started, seen = session.get(STARTED_KEY), session.get(SEEN_KEY)
    valid = (session.get(VERSION_KEY) == user.session_version
             and isinstance(started, int) and isinstance(seen, int)
             and now - started <= config["SESSION_MAX_HOURS"] * 3600
             and now - seen <= config["SESSION_IDLE_MINUTES"] * 60)
    if not valid or not isinstance(seen, int):  # (valid says seen is an int)
        for key in (*FLASK_LOGIN_KEYS, VERSION_KEY, STARTED_KEY, SEEN_KEY):
            session.pop(key, None)
        return False
    if now - seen >= SEEN_RESOLUTION:
        session[SEEN_KEY] = now
    return True


@event.listens_for(User.roles, "set", active_history=True)
def _roles_changed(user: User, value, oldvalue, initiator) -> None:
    # Any code path that changes a user's roles ends that user's sessions, so a revoked
    # role cannot linger in a session opened before the change.
    if isinstance(oldvalue, list) and list(oldvalue) != list(value):
        end_all(user)
