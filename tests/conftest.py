"""Shared fixtures: a real PostgreSQL database per test run, each test in a rolled-back
transaction, an app per test, a CSRF-aware test client and role-based login helpers.

Servers: PostgreSQL, RabbitMQ (and Redis where used) at their standard loopback ports, or
wherever TEST_DATABASE_ADMIN_URL / TEST_BROKER_URL / TEST_REDIS_URL point. `scripts/test.sh`
starts them when they are not running.
"""
from __future__ import annotations

import contextvars
import itertools
import os
import re
import secrets

import pytest
from flask.testing import FlaskClient
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from portal import migrate
from portal.app import create_app
from portal.auth import service as accounts
from portal.extensions import db
from portal.tenants import service as tenants
from tests import databases
from tests.databases import drop_database

BROKER_URL = os.environ.get("TEST_BROKER_URL", "amqp://guest:guest@127.0.0.1:5672//")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
TEST_PASSWORD = "correct horse battery staple"
FAST_ARGON2 = {"time_cost": 1, "memory_cost": 1024, "parallelism": 1}
CSRF_TOKEN_PAGE = "/no-such-page"
_counter = itertools.count(1)


def create_database(suffix: str = "") -> str:
    """Create a fresh database migrated to head; returns its URL."""
    return databases.create_database(
        f"portal_test_{os.getpid()}_{secrets.token_hex(3)}{suffix}", migrate.upgrade)


@pytest.fixture(scope="session")
def database_url():
    url = create_database()
    yield url
    drop_database(url)


@pytest.fixture(scope="session")
def base_config(database_url, tmp_path_factory) -> dict:
    """Config shared by the apps of this run; tests copy it and override what they need."""
    return {
        "TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": "test-secret",
        "INSTANCE_DIR": str(tmp_path_factory.mktemp("instance")),
        "CELERY_BROKER_URL": BROKER_URL, "CELERY_RESULT_BACKEND": "cache+memory://",
        "REDIS_URL": None, "RATELIMIT_STORAGE_URI": "memory://",
        "ARGON2_PARAMS": FAST_ARGON2, "AUDIT_ENFORCE": True, "LOG_FORMAT": "text",
        # The suite's fake webhook receivers listen on loopback, which production refuses.
        "OUTBOUND_ALLOWED_HOSTS": ("127.0.0.1", "::1", "localhost"),
    }


@pytest.fixture(scope="session")
def engine(database_url):
    eng = create_engine(database_url)
    yield eng
    eng.dispose()


@pytest.fixture
def connection(engine):
    """One connection per test whose outer transaction is rolled back at the end."""
    conn = engine.connect()
    outer = conn.begin()
    yield conn
    outer.rollback()
    conn.close()


@pytest.fixture
def session(connection) -> Session:
    """A session for test setup and assertions; sees what the app's requests wrote."""
    s = Session(bind=connection, join_transaction_mode="create_savepoint",
                expire_on_commit=False)
    yield s
    s.close()


class PortalClient(FlaskClient):
    """A test client that can fetch a CSRF token and send forms and htmx requests.

    Each request runs in an empty contextvars context, so it gets its own app context and
    `g` (as in production) even while the `app` fixture holds an app context for the test.
    """

    def open(self, *args, **kwargs):
        return contextvars.Context().run(super().open, *args, **kwargs)

    def csrf_token(self) -> str:
        # Every page carries the session's token, the "not found" page too: it is one
        # request for anyone, signed in or not, and the cheapest page there is.
        response = self.get(CSRF_TOKEN_PAGE)
        match = re.search(r'name="csrf-token" content="([^"]+)"', response.get_data(as_text=True))
        assert match, "page has no csrf-token meta tag"
        return match.group(1)

    def post_form(self, url: str, data: dict | None = None, **kwargs):
        """POST a form with a valid CSRF token."""
        return self.post(url, data={**(data or {}), "csrf_token": self.csrf_token()}, **kwargs)

    def htmx(self, method: str, url: str, **kwargs):
        """An htmx request: HX-Request header, and the CSRF header for unsafe methods."""
        headers = {"HX-Request": "true", **kwargs.pop("headers", {})}
        if method.upper() != "GET":
            headers["X-CSRFToken"] = self.csrf_token()
        return self.open(url, method=method.upper(), headers=headers, **kwargs)


@pytest.fixture
def app(base_config, connection):
    application = create_app(dict(base_config))
    db.bind_to(application, connection)
    application.test_client_class = PortalClient
    with application.app_context():
        yield application
    application.extensions["portal_db"].engine.dispose()


@pytest.fixture
def client(app) -> PortalClient:
    return app.test_client()


@pytest.fixture
def make_tenant(session):
    def factory(slug: str | None = None, plan: str = "growth", region: str = "us"):
        slug = slug or f"tenant-{next(_counter)}-{secrets.token_hex(2)}"
        tenant = tenants.upsert(session=session, slug=slug, name=slug.replace("-", " ").title(),
                                plan=plan, region=region)
        session.commit()
        return tenant
    return factory


@pytest.fixture
def make_user(session, make_tenant):
    def factory(*roles: str, tenant=None, email: str | None = None, password=TEST_PASSWORD):
        roles = list(roles) or ["developer"]
        if "tenant_viewer" in roles and tenant is None:
            tenant = make_tenant()
        email = email or f"{'-'.join(roles)}-{next(_counter)}-{secrets.token_hex(2)}@test.example"
        user = accounts.create(session=session, email=email, name=f"Test {roles[0]}",
                               password=password, roles=roles,
                               tenant_id=tenant.id if tenant else None, params=FAST_ARGON2)
        session.commit()
        return user
    return factory


@pytest.fixture
def login_as(client, make_user):
    """Sign in through the real login form as a new user with `roles`; returns the user."""
    def login(*roles: str, tenant=None):
        user = make_user(*roles, tenant=tenant)
        response = client.post_form("/login", {"email": user.email, "password": TEST_PASSWORD})
        assert response.status_code == 303, response.get_data(as_text=True)[:500]
        return user
    return login
