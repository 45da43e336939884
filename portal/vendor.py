"""plotly.js served from the pinned `plotly` wheel rather than a copy in static/.

The wheel ships the exact plotly.js its Python figures are built for, so the two never drift,
and nothing is fetched from a CDN. The URL carries the version so browsers may cache it hard.
"""
from __future__ import annotations

from pathlib import Path

import plotly
from flask import Blueprint, Flask, send_from_directory
from plotly.offline import get_plotlyjs_version

bp = Blueprint("vendor", __name__)
PLOTLY_DIR = Path(plotly.__file__).parent / "package_data"
PLOTLY_JS_VERSION = get_plotlyjs_version()


@bp.get("/vendor/plotly.min.js")
def plotly_js():
    """plotly.min.js of the installed plotly wheel (cached for a year; the URL is versioned)."""
    return send_from_directory(PLOTLY_DIR, "plotly.min.js", mimetype="text/javascript",
                               max_age=365 * 24 * 3600)


def init_app(app: Flask) -> None:
    """Register the route and give templates the version for cache-busting URLs."""
    app.register_blueprint(bp)
    app.jinja_env.globals["plotly_js_version"] = PLOTLY_JS_VERSION
