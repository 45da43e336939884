"""Error pages: a readable page for normal requests, a fragment for htmx requests.

htmx fragments are retargeted to the page's `#errors` region, so an error never swaps a
blank or a traceback into whatever the request was aimed at.
"""
from __future__ import annotations

import logging

from flask import Flask, g, render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DataError
from werkzeug.exceptions import HTTPException, InternalServerError

from portal.extensions import db, htmx

log = logging.getLogger(__name__)

TITLES = {
    400: "Bad request", 401: "Sign-in required", 403: "Not allowed", 404: "Not found",
    405: "Method not allowed", 413: "Too large", 422: "Check the form", 429: "Too many requests",
    500: "Something went wrong", 503: "A backing system is unavailable",
}
MESSAGES = {
    403: "Your roles do not include this area. Ask an admin if you need access.",
    404: "There is nothing here, or you may not see it.",
    405: "This address does not accept that kind of request.",
    413: "The request is larger than the portal accepts.",
    500: "The error was logged with its request id. Try again, or report the id below.",
}
DATA_MESSAGE = ("A value in the request is not acceptable (for example a number larger than "
                "the portal stores). Check the form and try again.")
CSRF_MESSAGE = ("The form was sent without a valid security token (it may have expired). "
                "Reload the page and try again.")


def render_error(status: int, message: str | None = None):
    """The error page or fragment for `status`."""
    context = {"status": status, "title": TITLES.get(status, "Error"),
               "message": message or MESSAGES.get(status, ""),
               "request_id": g.get("request_id")}
    if request.headers.get("Authorization", "")[:7].lower() == "bearer ":
        # API clients (token-authenticated) read errors as JSON, never as a page.
        return {"error": context["title"], "message": context["message"],
                "request_id": context["request_id"]}, status
    if htmx:
        response = render_template("errors/_error.html", **context), status, {
            "HX-Retarget": "#errors", "HX-Reswap": "innerHTML"}
        return response
    return render_template("errors/error.html", **context), status


def init_app(app: Flask) -> None:
    """Register the handlers for HTTP errors, CSRF failures and unexpected exceptions."""

    @app.errorhandler(CSRFError)
    def _csrf(exc: CSRFError):
        log.warning("CSRF refused: %s %s (%s)", request.method, request.path, exc.description)
        return render_error(400, CSRF_MESSAGE)

    @app.errorhandler(DataError)
    def _data(exc: DataError):
        # The request layer (portal.security.inputs) bounds what it can name; this catches a
        # value the database still refuses (e.g. a number beyond a column's range).
        log.warning("database refused a value on %s %s: %s", request.method, request.path,
                    exc.orig)
        db.discard(rollback=True)
        g.pop("_login_user", None)
        return render_error(400, DATA_MESSAGE)

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        generic = exc.description == type(exc).description
        return render_error(exc.code or 500, None if generic else exc.description)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        if isinstance(exc, HTTPException):
            return _http(exc)
        log.exception("unhandled error on %s %s", request.method, request.path)
        db.discard(rollback=True)
        # The rollback expired the signed-in user and closing the session detached it: the
        # page's navigation would fail on it. Flask-Login loads it afresh on next use.
        g.pop("_login_user", None)
        try:
            return render_error(InternalServerError.code)
        except Exception:  # e.g. the database itself is down: the page cannot load the user
            log.exception("the error page failed too on %s %s", request.method, request.path)
            return (f"Something went wrong (request {g.get('request_id')}).",
                    InternalServerError.code, {"Content-Type": "text/plain; charset=utf-8"})
