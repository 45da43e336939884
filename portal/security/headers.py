"""Security headers on every response, and a dev-server handler that hides its version.

The Content Security Policy allows scripts only from the portal itself: no inline script,
no eval. Plotly figures are drawn by static/js/charts.js from data attributes, htmx reads
its configuration from a meta tag. Styles may be inline because plotly.js and htmx inject
<style> elements at run time; style injection cannot run script.
"""
from __future__ import annotations

from flask import Flask, request
from flask_login import current_user

CSP = "; ".join((
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
))
HSTS = "max-age=31536000; includeSubDomains"
PUBLIC_ASSETS = {"static", "vendor.plotly_js", "webapp.webmanifest"}


def init_app(app: Flask) -> None:
    """Add the headers to every response, errors and static files included."""

    @app.after_request
    def _security_headers(response):
        headers = response.headers
        headers["Content-Security-Policy"] = CSP
        headers["X-Frame-Options"] = "DENY"
        headers["X-Content-Type-Options"] = "nosniff"
        headers["Referrer-Policy"] = "same-origin"
        headers["Cross-Origin-Opener-Policy"] = "same-origin"
        if request.is_secure:
            headers["Strict-Transport-Security"] = HSTS
        # Whatever a signed-in user sees (tenant dashboards, reports, downloads) must not
        # be kept by the browser or a shared cache for the next person at that machine;
        # signed object-store links (report files) are private without a session too.
        private = (request.endpoint or "").startswith("objects.") or (
            current_user.is_authenticated and request.endpoint not in PUBLIC_ASSETS)
        if private:
            headers["Cache-Control"] = "no-store"
            headers["Pragma"] = "no-cache"
        return response
