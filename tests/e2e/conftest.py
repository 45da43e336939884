"""Browser tests: Debian Chromium driven by pytest-playwright against a live portal.

The live portal runs in a thread on a free loopback port, on its own database seeded with
the demo data (`portal seed-demo`), so browser tests see Meridian as a newcomer would.
"""
from __future__ import annotations

import threading

import pytest
from playwright.sync_api import Page, expect
from werkzeug.serving import make_server

from portal.app import create_app
from portal.demo import meridian
from portal.demo.seed import seed_demo
from portal.extensions import db
from tests.conftest import FAST_ARGON2, create_database, drop_database

CHROMIUM = "/usr/bin/chromium"
DEMO_EMAILS = {
    "admin": "admin@meridian.example", "manager": "manager@meridian.example",
    "oncall": "oncall@meridian.example", "developer": "dev@meridian.example",
    "tenant_viewer": "viewer@acme-retail.example",
    "other_tenant_viewer": "viewer@globex-outfitters.example",
}


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """Debian's Chromium (no Playwright browser download), kept off the network."""
    return {**browser_type_launch_args, "executable_path": CHROMIUM,
            "args": ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--disable-background-networking", "--disable-component-update",
                     "--disable-sync", "--disable-quic", "--no-first-run"]}


@pytest.fixture(scope="session")
def e2e_app(base_config):
    url = create_database("_e2e")
    app = create_app({**base_config, "DATABASE_URL": url, "ARGON2_PARAMS": FAST_ARGON2})
    with app.app_context(), db.session_scope() as session:
        seed_demo(session=session, argon2_params=FAST_ARGON2)
    yield app
    app.extensions["portal_db"].engine.dispose()
    drop_database(url)


@pytest.fixture(scope="session")
def live_url(e2e_app):
    """Base URL of the live portal, e.g. http://127.0.0.1:40123."""
    server = make_server("127.0.0.1", 0, e2e_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(5)


@pytest.fixture
def sign_in(page: Page, live_url):
    """Sign in through the login form as the demo user of `role`; returns the page."""
    def _sign_in(role: str, on: Page | None = None) -> Page:
        target = on or page
        email = DEMO_EMAILS[role]
        target.goto(f"{live_url}/login")
        target.get_by_label("E-mail").fill(email)
        target.get_by_label("Password").fill(meridian.demo_password(email))
        target.get_by_role("button", name="Sign in").click()
        expect(target.locator("#logout")).to_be_visible()
        # The page after sign-in is usable once its scripts have run: a key press or a
        # typed value before htmx binds its handlers would be lost.
        target.wait_for_load_state()
        return target
    return _sign_in
