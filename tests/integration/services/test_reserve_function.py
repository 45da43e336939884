"""The reservation runs as the PL/pgSQL function inventory.reserve_stock (migration
svc_inventory_0002), whose plan PostgreSQL keeps per session instead of planning the
statement on every call: the service sends only the call, the function answers like the
statement did, and the revision downgrades and upgrades again."""
from __future__ import annotations

import psycopg
import pytest
from alembic import command
from sqlalchemy import create_engine, event, text

from platform_services.common import migrate as services_migrate
from platform_services.common.app import ApiError
from platform_services.inventory import service

pytestmark = pytest.mark.integration
TENANT = 990_031


def _function_exists(engine) -> bool:
    with engine.connect() as conn:
        return bool(conn.scalar(text(
            "SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
            "WHERE n.nspname = 'inventory' AND p.proname = 'reserve_stock'")))


@pytest.fixture
def stocked(services_db):
    """A tenant with SKU-A in two warehouses and SKU-B in one, straight in the tables."""
    engine = create_engine(services_db)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO inventory.tenants (id, slug, name) "
                          "VALUES (:t, 'reserve-fn', 'reserve-fn') ON CONFLICT DO NOTHING"),
                     {"t": TENANT})
        conn.execute(text("DELETE FROM inventory.reservations WHERE tenant_id = :t"),
                     {"t": TENANT})
        conn.execute(text("DELETE FROM inventory.stock WHERE tenant_id = :t"), {"t": TENANT})
        conn.execute(text("INSERT INTO inventory.stock (tenant_id, sku, warehouse, on_hand) "
                          "VALUES (:t, 'SKU-A', 'eu-west-1a', 4), (:t, 'SKU-A', 'us-east-1a', 9),"
                          " (:t, 'SKU-B', 'us-east-1a', 2)"), {"t": TENANT})
    yield engine.execution_options(isolation_level="AUTOCOMMIT")
    engine.dispose()


def _levels(engine) -> list[tuple]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(
            "SELECT sku, warehouse, reserved FROM inventory.stock WHERE tenant_id = :t "
            "ORDER BY sku, warehouse"), {"t": TENANT})]


def test_the_service_sends_only_the_function_call(stocked):
    sent: list[str] = []

    def record(conn, cursor, statement, *_):
        sent.append(statement)

    event.listen(stocked.engine, "before_cursor_execute", record)
    try:
        with stocked.connect() as conn:
            made = service.reserve(conn, tenant_id=TENANT, reference="o1",
                                   lines=[{"sku": "SKU-A", "quantity": 5}])
    finally:
        event.remove(stocked.engine, "before_cursor_execute", record)
    assert len(sent) == 1 and "inventory.reserve_stock(" in sent[0]
    assert "INSERT" not in sent[0].upper()
    assert made.held == [{"sku": "SKU-A", "quantity": 5, "warehouse": "us-east-1a",
                          "status": "reserved"}]
    assert [(r["warehouse"], r["reserved"]) for r in made.levels["SKU-A"].rows] == [
        ("eu-west-1a", 0), ("us-east-1a", 5)]


def test_all_or_nothing_replay_and_unknown_skus(stocked):
    with stocked.connect() as conn:
        lines = [{"sku": "SKU-A", "quantity": 2}, {"sku": "SKU-B", "quantity": 2}]
        first = service.reserve(conn, tenant_id=TENANT, reference="o1", lines=lines)
        assert [(h["sku"], h["warehouse"]) for h in first.held] == [
            ("SKU-A", "us-east-1a"), ("SKU-B", "us-east-1a")]
        # The same reference again: what it holds, nothing reserved twice, no levels.
        again = service.reserve(conn, tenant_id=TENANT, reference="o1", lines=lines)
        assert again.held == first.held and again.levels == {}
        # SKU-B has nothing left: neither line of o2 is reserved.
        with pytest.raises(ApiError) as short:
            service.reserve(conn, tenant_id=TENANT, reference="o2", lines=lines)
        assert short.value.status == 409
        with pytest.raises(ApiError) as unknown:
            service.reserve(conn, tenant_id=TENANT, reference="o3",
                            lines=[{"sku": "SKU-A", "quantity": 1},
                                   {"sku": "SKU-Z", "quantity": 1}])
        assert unknown.value.status == 422
    assert _levels(stocked) == [("SKU-A", "eu-west-1a", 0), ("SKU-A", "us-east-1a", 2),
                                ("SKU-B", "us-east-1a", 2)]


def test_the_plan_is_kept_for_the_session(stocked, services_db):
    """After PostgreSQL's first custom plans, the function runs the statement on its kept
    generic plan (parameters as $n in the plan auto_explain reports), not a new plan."""
    url = services_db.replace("postgresql+psycopg://", "postgresql://")
    plans: list[str] = []
    with psycopg.connect(url, autocommit=True) as conn:
        conn.add_notice_handler(lambda diag: plans.append(diag.message_primary or ""))
        conn.execute("LOAD 'auto_explain'")
        conn.execute("SET auto_explain.log_min_duration = 0")
        conn.execute("SET auto_explain.log_nested_statements = on")
        conn.execute("SET auto_explain.log_level = notice")
        for i in range(8):
            plans.clear()
            conn.execute("SELECT * FROM inventory.reserve_stock(%s, %s, %s, %s)",
                         (TENANT, f"plan-{i}", ["SKU-A"], [1])).fetchall()
    nested = [p for p in plans if "reservations" in p and "Index Cond" in p]
    assert nested and "reference)::text = $2" in nested[0]


def test_the_revision_downgrades_and_upgrades_again(services_db):
    config = services_migrate.alembic_config(services_db)
    engine = create_engine(services_db)
    try:
        assert _function_exists(engine)
        command.downgrade(config, "svc_inventory_0001")
        assert not _function_exists(engine)
    finally:
        command.upgrade(config, "heads")
    try:
        assert _function_exists(engine)
    finally:
        engine.dispose()
