"""One place for the page-or-fragment decision of the hypermedia views."""
from __future__ import annotations

import json

import plotly.io as pio
from flask import render_template
from markupsafe import Markup, escape

from portal.extensions import htmx

PLOT_CONFIG = {"displaylogo": False, "responsive": True}


def page_or_fragment(page: str, fragment: str, *, http_status: int = 200, **context):
    """Render the full page normally and only the fragment for an htmx request.

    Boosted and history-restore requests want the whole page, like a plain navigation.
    `http_status` is not called `status`: pages use that name for their own filters, and a
    context value must never become the response's status line.
    """
    return render_template(fragment if wants_fragment() else page, **context), http_status


def wants_fragment() -> bool:
    """Whether this request wants a fragment: htmx asks, but not for a boosted or a
    history-restore request, which want the whole page like a plain navigation."""
    return bool(htmx) and not htmx.boosted and not htmx.history_restore_request


def figure_html(figure, *, div_id: str, config: dict | None = None) -> Markup:
    """A Plotly figure as a div whose JSON static/js/charts.js draws.

    Plotly's own `to_html` emits an inline <script> per figure, which the Content Security
    Policy forbids; the figure travels as an HTML-escaped data attribute instead.
    """
    spec = pio.to_json(figure, validate=False)
    options = json.dumps({"config": {**PLOT_CONFIG, **(config or {})}})
    return Markup('<div id="{}" class="plotly-graph-div" data-plotly-figure="{}" '
                  'data-plotly-options="{}"></div>').format(div_id, escape(spec), escape(options))
