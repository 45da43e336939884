"""One place for the page-or-fragment decision of the hypermedia views."""
from __future__ import annotations

from flask import render_template

from portal.extensions import htmx


def page_or_fragment(page: str, fragment: str, *, http_status: int = 200, **context):
    """Render the full page normally and only the fragment for an htmx request.

    Boosted and history-restore requests want the whole page, like a plain navigation.
    `http_status` is not called `status`: pages use that name for their own filters, and a
    context value must never become the response's status line.
    """
    wants_fragment = bool(htmx) and not htmx.boosted and not htmx.history_restore_request
    return render_template(fragment if wants_fragment else page, **context), http_status
