"""The header's theme switch: a plain form (works without JavaScript) that htmx enhances.

Without htmx the POST redirects back to the page it came from, which the server renders in
the new theme. With htmx the answer is empty (204) with an `HX-Trigger` event that tells
static/js/theme.js to set `data-theme`, mark the pressed button and re-colour the Plotly
charts in place.
"""
from __future__ import annotations

import json

from flask import request
from flask_login import current_user

from portal.auth import preferences
from portal.auth.access import audit_action, require_roles
from portal.auth.blueprint import preferences_bp as bp
from portal.errors import render_error
from portal.extensions import htmx
from portal.security.redirects import safe_redirect


def _here() -> str:
    """The current page as a local path with its query, for the form's `next` field."""
    return request.full_path.rstrip("?") if request.query_string else request.path


@bp.app_context_processor
def _theme_context() -> dict:
    return {"ui_theme": preferences.theme_of(current_user),
            "ui_themes": preferences.THEME_LABELS, "theme_next": _here}


@bp.post("/account/theme")
@require_roles()
def theme():
    """Remember the signed-in person's theme (auto, light or dark)."""
    chosen = (request.form.get("theme") or "").strip()
    user = current_user._get_current_object()
    try:
        previous = preferences.set_theme(user=user, theme=chosen)
    except preferences.PreferenceError as exc:
        return render_error(400, str(exc))
    audit_action("auth.preferences_theme", target_type="user", target_id=user.id,
                 details={"theme": chosen, "previous": previous})
    if not htmx:  # back to the page the switch was on, now rendered in the new theme
        return safe_redirect(request.form.get("next"), "home.index")
    # The switch stays in place (keeping keyboard focus); the event re-themes the page.
    return "", 204, {"HX-Trigger": json.dumps({"portal-theme": chosen})}
