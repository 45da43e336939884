"""The portal as an installable web app: its manifest, served with its own media type.

The manifest is built per request from `url_for`, so icon and start URLs stay right when
the portal runs under a path prefix; the icons themselves are static files
(scripts/make_app_icons.py draws them). It holds nothing personal, so it is public.
"""
from __future__ import annotations

import json

from flask import Blueprint, Flask, Response, url_for

bp = Blueprint("webapp", __name__)
MEDIA_TYPE = "application/manifest+json"
# Pico's primary colour and the two schemes' page backgrounds.
THEME_COLOR, BACKGROUND_LIGHT = "#0172ad", "#ffffff"
ICONS = (("icons/icon-192.png", "192x192", "any"), ("icons/icon-512.png", "512x512", "any"),
         ("icons/icon-maskable-512.png", "512x512", "maskable"))


def manifest() -> dict:
    """The Web App Manifest of the portal."""
    return {
        "name": "Meridian Platform Portal",
        "short_name": "Meridian",
        "description": "Services, SLOs, on-call, incidents and self-service for Meridian.",
        "id": url_for("home.index"),
        "start_url": url_for("home.index"),
        "scope": url_for("home.index"),
        "display": "standalone",
        "theme_color": THEME_COLOR,
        "background_color": BACKGROUND_LIGHT,
        "icons": [{"src": url_for("static", filename=path), "sizes": sizes, "type": "image/png",
                   "purpose": purpose} for path, sizes, purpose in ICONS],
    }


@bp.get("/manifest.webmanifest")
def webmanifest():
    """The manifest as `application/manifest+json` (cacheable for a day)."""
    response = Response(json.dumps(manifest(), indent=1), mimetype=MEDIA_TYPE)
    response.cache_control.public = True
    response.cache_control.max_age = 24 * 3600
    return response


def init_app(app: Flask) -> None:
    """Register the manifest route."""
    app.register_blueprint(bp)
