"""Per-user interface preferences: the colour theme of the pages.

"auto" follows the device (`prefers-color-scheme`); "light" and "dark" are rendered by the
server as `data-theme` on <html>, so a page never flashes the other scheme while it loads.
"""
from __future__ import annotations

from portal.auth.models import THEMES, User

THEME_LABELS = {"auto": "Auto", "light": "Light", "dark": "Dark"}


class PreferenceError(ValueError):
    """A preference value the portal does not offer."""


def theme_of(user) -> str:
    """The theme to render for `user` (anonymous visitors follow their device)."""
    theme = getattr(user, "theme", None) if getattr(user, "is_authenticated", False) else None
    return theme if theme in THEMES else "auto"


def set_theme(*, user: User, theme: str) -> str:
    """Store `theme` for `user`; returns the previous theme."""
    if theme not in THEMES:
        raise PreferenceError("Choose a theme among " + ", ".join(THEMES) + ".")
    previous, user.theme = user.theme, theme
    return previous
