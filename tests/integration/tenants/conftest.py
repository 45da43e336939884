"""Fixtures of the tenants integration tests: their own database with the services'
schemas, moto's S3 server, an app whose Celery runs on RabbitMQ with a queue of its own,
and helpers that commit for real (the worker reads through its own connections)."""
from __future__ import annotations

import secrets
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from celery.contrib.testing.worker import start_worker
from sqlalchemy import text

from portal.app import create_app
from portal.auth import service as accounts
from portal.extensions import db
from portal.tenants import service as tenants
from tests.conftest import FAST_ARGON2, TEST_PASSWORD, PortalClient
from tests.integration.tenants import servers

pytestmark = pytest.mark.integration


@pytest.fixture(scope="session")
def services_db():
    with servers.services_database() as url:
        yield url


@pytest.fixture(scope="session")
def s3_url():
    with servers.moto_s3() as url:
        yield url


@pytest.fixture(scope="module")
def live(base_config, services_db, s3_url):
    """(app, celery queue) on the services database; the app commits for real.

    Shared by a module's tests: they change its config only through monkeypatch.
    """
    app = create_app(dict(base_config, DATABASE_URL=services_db, S3_ENDPOINT_URL=s3_url,
                          CELERY_RESULT_BACKEND="rpc://"))
    app.test_client_class = PortalClient
    queue = f"portal-tenants-{secrets.token_hex(4)}"
    app.extensions["celery"].conf.task_default_queue = queue
    yield app, queue
    app.extensions["portal_db"].engine.dispose()


@pytest.fixture(scope="module")
def worker(live):
    """One worker per module: a worker's warm shutdown takes seconds."""
    app, queue = live
    with start_worker(app.extensions["celery"], pool="solo", perform_ping_check=False,
                      queues=[queue], shutdown_timeout=60, loglevel="WARNING"):
        yield


@pytest.fixture
def tenant_with_viewer(live):
    """Create a tenant and its viewer; returns (tenant, signed-in client)."""
    app, _ = live

    def make():
        slug = f"t-{secrets.token_hex(4)}"
        with app.app_context(), db.session_scope() as session:
            tenant = tenants.upsert(session=session, slug=slug, name=slug.title(),
                                    plan="growth", region="us")
            user = accounts.create(session=session, email=f"viewer@{slug}.example", name="V",
                                   password=TEST_PASSWORD, roles=["tenant_viewer"],
                                   tenant_id=tenant.id, params=FAST_ARGON2)
            register(session, tenant)
        client = app.test_client()
        assert client.post_form("/login", {"email": user.email,
                                           "password": TEST_PASSWORD}).status_code == 303
        return tenant, client
    return make


def register(session, tenant) -> None:
    """Register the tenant with the services, as the services' PUT /v1/tenants does."""
    for schema in ("orders", "inventory"):
        session.execute(text(f"INSERT INTO {schema}.tenants (id, slug, name) VALUES "
                             "(:i, :s, :n) ON CONFLICT (id) DO NOTHING"),
                        {"i": tenant.id, "s": tenant.slug, "n": tenant.name})


def add_order(session, tenant_id: int, *, created: datetime, status: str = "pending",
              units: int = 2, warehouse: str = "newark",
              fulfilled_after: timedelta | None = None) -> str:
    """Insert one order (and its line, and a shipment when fulfilled) into the services' tables."""
    order_id = str(uuid.uuid4())
    updated = created + (fulfilled_after or timedelta(0)) + timedelta(seconds=30)
    session.execute(text(
        "INSERT INTO orders.orders (id, tenant_id, status, customer_ref, total_quantity, "
        "created_at, updated_at) VALUES (:id, :t, :s, 'c-1', :u, :c, :up)"),
        {"id": order_id, "t": tenant_id, "s": status, "u": units, "c": created, "up": updated})
    session.execute(text("INSERT INTO orders.order_lines (order_id, sku, quantity, warehouse) "
                         "VALUES (:id, 'SKU-1', :u, :w)"),
                    {"id": order_id, "u": units, "w": warehouse})
    if status == "fulfilled":
        session.execute(text(
            "INSERT INTO fulfillment.shipments (tenant_id, tenant, order_id, warehouse, carrier, "
            "status, confirmed_at, created_at, updated_at) VALUES (:t, 'x', :id, :w, 'ups', "
            "'shipped', :conf, :conf, :up)"),
            {"t": tenant_id, "id": order_id, "w": warehouse,
             "conf": created + timedelta(seconds=30), "up": updated})
    return order_id


def today_noon() -> datetime:
    now = datetime.now(UTC)
    return now.replace(hour=12, minute=0, second=0, microsecond=0) - timedelta(days=1)
