"""The services' Alembic migrations are the only way their schemas are made: what they
build equals what each service's models declare."""
import importlib

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

from platform_services.common.resources import sqlalchemy_url

pytestmark = pytest.mark.integration
MODULES = [f"platform_services.{service}.models" for service in (
    "auth", "billing", "fulfillment", "inventory", "notification", "orders", "search",
    "worker")] + ["platform_services.common.api_usage"]


@pytest.mark.parametrize("module", MODULES)
def test_migrated_schema_matches_the_models(module, services_db):
    metadata = importlib.import_module(module).metadata
    engine = create_engine(sqlalchemy_url(services_db))
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={
            "compare_type": True, "include_schemas": True,
            "include_name": lambda name, type_, parent: (
                type_ != "schema" or name == metadata.schema)})
        diff = compare_metadata(context, metadata)
    engine.dispose()
    assert diff == [], f"{module}: models and migrations differ: {diff}"
