"""The tenants demo seed on a database that has the services' schemas, as `portal dev`
meets it: the first start seeds before the services migrate, every later start seeds
into the services' real tables (uuid ids, NOT NULL columns). Each start must succeed."""
import pytest
from sqlalchemy import func, select, text

from platform_services.common import migrate as services_migrate
from portal.app import create_app
from portal.demo.seed import seed_demo
from portal.extensions import db
from portal.tenants import demo, service
from portal.tenants.models import DailyApiRequests, DailyOrders
from tests.conftest import FAST_ARGON2, create_database, drop_database

pytestmark = pytest.mark.integration


@pytest.fixture
def fresh_app(base_config):
    """An app on a database of its own: portal migrations only, services' come later."""
    url = create_database("_seed")
    app = create_app(dict(base_config, DATABASE_URL=url))
    yield app, url
    app.extensions["portal_db"].engine.dispose()
    drop_database(url)


def _start(app) -> None:
    """What `portal dev` does with the database at each start: seed the demo."""
    with app.app_context(), db.session_scope() as session:
        seed_demo(session=session, argon2_params=FAST_ARGON2)


def _counts(app) -> dict:
    with app.app_context(), db.session_scope() as session:
        ids = [service.get_by_slug(session=session, slug=s).id for s in demo.DEMO_TENANTS]
        conn = session.connection()
        return {
            "orders": conn.scalar(text("SELECT count(*) FROM orders.orders "
                                       "WHERE tenant_id = ANY(:ids)"), {"ids": ids}),
            "shipments": conn.scalar(text("SELECT count(*) FROM fulfillment.shipments "
                                          "WHERE tenant_id = ANY(:ids)"), {"ids": ids}),
            "stock": conn.scalar(text("SELECT count(*) FROM inventory.stock "
                                      "WHERE tenant_id = ANY(:ids)"), {"ids": ids}),
            "rolled_up": session.scalar(select(func.coalesce(func.sum(DailyOrders.orders), 0))
                                        .where(DailyOrders.tenant_id.in_(ids))),
            "api_requests": conn.scalar(text(
                "SELECT coalesce(sum(requests), 0) FROM telemetry.api_requests "
                "WHERE tenant_id = ANY(:ids)"), {"ids": ids}),
            "api_rolled_up": session.scalar(
                select(func.coalesce(func.sum(DailyApiRequests.requests), 0))
                .where(DailyApiRequests.tenant_id.in_(ids))),
        }


def test_demo_seeds_before_and_after_the_services_migrate_on_every_start(fresh_app):
    app, url = fresh_app
    _start(app)                      # first start: no services' tables yet
    services_migrate.upgrade(url)    # the services migrate when they start
    _start(app)                      # second start: history goes into the services' tables
    after_second = _counts(app)
    assert after_second["orders"] > 0 and after_second["shipments"] > 0
    assert after_second["stock"] == 40 * len(demo.DEMO_TENANTS)
    # The rollups now come from the services' rows: exactly one count per order.
    assert after_second["rolled_up"] == after_second["orders"]
    assert after_second["api_rolled_up"] == after_second["api_requests"] > 0
    _start(app)                      # third start: nothing is added twice
    assert _counts(app) == after_second


def test_demo_seeds_twice_into_a_database_migrated_for_the_services(fresh_app):
    app, url = fresh_app
    services_migrate.upgrade(url)
    _start(app)
    first = _counts(app)
    _start(app)
    assert _counts(app) == first
    assert first["orders"] > 0 and first["rolled_up"] == first["orders"]
    assert first["api_requests"] > 0 and first["api_rolled_up"] == first["api_requests"]
