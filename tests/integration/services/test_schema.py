"""The services' Alembic migrations are the only way their schemas are made: what they
build equals what each service's models declare."""
import importlib

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

from platform_services.common.resources import sqlalchemy_url

pytestmark = pytest.mark.integration
SERVICES = ("auth", "billing", "fulfillment", "inventory", "notification", "orders", "search",
            "worker")


@pytest.mark.parametrize("service", SERVICES)
def test_migrated_schema_matches_the_models(service, services_db):
    metadata = importlib.import_module(f"platform_services.{service}.models").metadata
    engine = create_engine(sqlalchemy_url(services_db))
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={
            "compare_type": True, "include_schemas": True,
            "include_name": lambda name, type_, parent: (
                type_ != "schema" or name == metadata.schema)})
        diff = compare_metadata(context, metadata)
    engine.dispose()
    assert diff == [], f"{service}: models and migrations differ: {diff}"
