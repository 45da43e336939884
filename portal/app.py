"""The application factory."""
from __future__ import annotations

import logging
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from flask import Flask, g, has_request_context, request
from flask.sessions import SecureCookieSessionInterface
from flask_login import current_user, user_unauthorized
from werkzeug.middleware.proxy_fix import ProxyFix

from portal import (
    commands,
    domains,
    errors,
    models,
    nav,
    observability,
    request_memo,
    timefmt,
    url_memo,
    vendor,
    webapp,
)
from portal import config as portal_config
from portal.auth import bearer
from portal.auth import service as accounts
from portal.catalog import vulnerability_api
from portal.config import PROJECT_ROOT
from portal.embedded import resolve_database_url
from portal.extensions import csrf, db, htmx, limiter, login_manager
from portal.integrations import folder_store, grafana_links, phone_status
from portal.routing import SharedBuilderRule
from portal.security import events, headers, inputs, production, sessions
from portal.templating import BYTECODE_CACHE
from portal.worker import make_celery

log = logging.getLogger(__name__)
MUTATING = {"POST", "PUT", "PATCH", "DELETE"}


class TLSAwareSessionInterface(SecureCookieSessionInterface):
    """Mark the session cookie Secure whenever the request itself came over HTTPS."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return super().get_cookie_secure(app) or (has_request_context() and request.is_secure)


def create_app(config: dict | None = None) -> Flask:
    """Build the portal: settings, extensions, blueprints, error handlers, Celery."""
    app = Flask("portal", template_folder=str(PROJECT_ROOT / "templates"),
                static_folder=str(PROJECT_ROOT / "static"))
    app.url_rule_class = SharedBuilderRule  # route builders compiled once per process
    app.jinja_options = {**app.jinja_options, "bytecode_cache": BYTECODE_CACHE}  # and templates
    app.config.update(portal_config.flask_config(portal_config.from_env()))
    app.config.update(config or {})
    production.check(app.config)
    app.config["DATABASE_EMBEDDED"] = not app.config["DATABASE_URL"]
    app.config["DATABASE_URL"] = resolve_database_url(app.config)
    if not app.testing:
        observability.configure_logging(app.config["LOG_LEVEL"], app.config["LOG_FORMAT"])
    if app.config["TRUST_PROXY_HEADERS"]:
        n = app.config["TRUST_PROXY_HEADERS"]
        # Flask's documented way to wrap its WSGI app, which mypy sees as a method.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n,  # type: ignore[method-assign]
                                x_host=n)
    app.session_interface = TLSAwareSessionInterface()

    observability.init_app(app)  # first, so request ids and timing cover every other hook
    inputs.init_app(app)  # before any blueprint: it bounds the `int` route converter
    headers.init_app(app)
    db.init_app(app)
    csrf.init_app(app)
    htmx.init_app(app)
    limiter.init_app(app)
    _init_login(app)
    errors.init_app(app)
    events.init_app(app)  # after observability: its counter joins the portal's registry
    vendor.init_app(app)
    webapp.init_app(app)  # the web app manifest (installable on phones)
    make_celery(app)
    _register_blueprints(app)
    _install_request_hooks(app)
    _install_template_helpers(app)
    url_memo.init_app(app)  # after every blueprint and its url_defaults are known
    commands.register(app)
    return app


def _init_login(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Sign in to continue."
    login_manager.login_message_category = "info"
    login_manager.session_protection = "strong"

    @login_manager.user_loader
    def _load(user_id: str):
        if bearer.presented() is not None:
            return None  # a bearer token is the request's only credential, never the cookie
        user = accounts.get(session=db.session, user_id=int(user_id))
        if user is None or not user.is_active or not sessions.is_current(user):
            return None
        return user

    bearer.init_app(app)


def _register_blueprints(app: Flask) -> None:
    assert models.MODEL_MODULES  # every table is mapped before the first query
    domains.modules("receivers")  # importing connects the signal receivers
    for blueprint in domains.blueprints():
        app.register_blueprint(blueprint)
    app.register_blueprint(folder_store.bp)  # signed URLs of the embedded object store
    app.register_blueprint(vulnerability_api.bp)  # CI's scan report uploads under /api/v1
    app.register_blueprint(phone_status.bp)  # signed delivery reports of SMS and calls


def _install_request_hooks(app: Flask) -> None:
    @app.before_request
    def _scope_session_to_tenant() -> None:
        # Set before any view runs a query: every TenantScoped SELECT of this request is
        # then filtered to the viewer's tenant (see portal.db).
        if current_user.is_authenticated and current_user.tenant_id is not None:
            db.session.info["tenant_id"] = current_user.tenant_id

    @user_unauthorized.connect_via(app)
    def _sent_to_login(_app, **_extra) -> None:
        g.sent_to_login = True

    @app.after_request
    def _audit_check_and_commit(response):
        # A request sent to the login page (user_unauthorized) changed nothing.
        if (request.method in MUTATING and response.status_code < 400
                and not g.get("audited") and not g.get("sent_to_login")
                and not _audit_exempt(app)):
            message = f"{request.method} {request.path} changed state without an audit entry"
            if app.config["AUDIT_ENFORCE"]:
                raise RuntimeError(message)
            log.error(message)
        session = db.current()
        if session is not None:
            session.commit()
        return response


def _audit_exempt(app: Flask) -> bool:
    view = app.view_functions.get(request.endpoint or "")
    return view is None or getattr(view, "audit_exempt", False)


def _install_template_helpers(app: Flask) -> None:
    @app.context_processor
    def _globals():
        return {"nav_items": nav.items_for(current_user),
                "grafana": grafana_links.page_links(app.config, datetime.now(UTC))}

    @app.template_filter("without")
    def _without(mapping: dict, *keys: str) -> dict:
        """A copy of `mapping` without `keys` (query strings for pagination links)."""
        return {k: v for k, v in mapping.items() if k not in keys}

    @app.template_filter("when")
    def _when(value, fmt: str = timefmt.DEFAULT_FORMAT):
        """A <time> in the viewer's zone with "12 min ago" wording; UTC on hover."""
        # Asked once per request: a page may show dozens of times.
        known = request_memo.memo("viewer")
        zone = known.get("zone")
        if zone is None:
            zone = known["zone"] = (
                (current_user.timezone or "UTC") if current_user.is_authenticated else "UTC")
            # One instant per request: every time on the page is worded against it.
            known["now"] = datetime.now(UTC)
        return timefmt.when(value, zone, fmt, known["now"])

    @app.template_filter("localtime")
    def _localtime(value, fmt: str = "%Y-%m-%d %H:%M:%S %Z"):
        """A stored UTC timestamp shown in the viewer's time zone."""
        if value is None:
            return ""
        zone = "UTC"
        if current_user.is_authenticated:
            zone = current_user.timezone or "UTC"
        return value.astimezone(ZoneInfo(zone)).strftime(fmt)
