"""The services' Alembic tree after the tenants area's index: one head per service
branch, and the rollups' scan of orders.orders by updated_at can use the index."""
import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, text

from platform_services.common import migrate as services_migrate

pytestmark = pytest.mark.integration


def test_one_head_per_service_branch():
    script = ScriptDirectory.from_config(services_migrate.alembic_config("unused://"))
    roots = [r for r in script.walk_revisions() if r.down_revision is None]
    branch_of_head = []
    for head in script.get_heads():
        root = list(script.iterate_revisions(head, "base"))[-1]
        branch_of_head.append(next(iter(root.branch_labels)))
    assert sorted(branch_of_head) == sorted(next(iter(r.branch_labels)) for r in roots)
    assert "svc_orders_0002" in script.get_heads()


def _index(engine) -> str | None:
    with engine.connect() as conn:
        return conn.scalar(text("SELECT indexdef FROM pg_indexes WHERE schemaname = 'orders' "
                                "AND indexname = 'ix_orders_updated_at'"))


def test_updated_at_index_is_built_valid_and_used_by_the_rollup_scan(services_db):
    engine = create_engine(services_db)
    try:
        assert "(updated_at)" in _index(engine)
        with engine.connect() as conn:
            assert conn.scalar(text(
                "SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                "WHERE c.relname = 'ix_orders_updated_at'"))
            conn.execute(text("SET enable_seqscan = off"))
            plan = "\n".join(conn.scalars(text(
                "EXPLAIN SELECT tenant_id, max(updated_at) FROM orders.orders "
                "WHERE updated_at > now() - interval '1 hour' GROUP BY tenant_id")))
        assert "ix_orders_updated_at" in plan
    finally:
        engine.dispose()


def test_index_revision_downgrades_and_upgrades_again(services_db):
    config = services_migrate.alembic_config(services_db)
    engine = create_engine(services_db)
    try:
        command.downgrade(config, "svc_orders_0001")
        assert _index(engine) is None
    finally:
        command.upgrade(config, "heads")
    try:
        assert _index(engine) is not None
    finally:
        engine.dispose()
