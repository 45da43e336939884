"""Alembic environment of the platform services, separate from the portal's.

One database, one PostgreSQL schema per service (orders, inventory, fulfillment, worker)
and one Alembic branch per schema, so each service's history evolves on its own and could
move to a database of its own by pointing DATABASE_URL elsewhere. The version table is
`services_alembic_version` so it never collides with the portal's `alembic_version`.
"""
from alembic import context
from sqlalchemy import create_engine

from platform_services.common.migrate import SCHEMAS, VERSION_TABLE, all_metadata
from platform_services.common.resources import sqlalchemy_url


def include_object(obj, name, type_, reflected, compare_to):
    """Autogenerate looks at the services' schemas only, never the portal's tables."""
    schema = getattr(obj, "schema", None) or getattr(getattr(obj, "table", None), "schema", None)
    return schema in SCHEMAS


def run_migrations(connection) -> None:
    context.configure(connection=connection, target_metadata=all_metadata(),
                      version_table=VERSION_TABLE, include_schemas=True,
                      include_object=include_object, compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


engine = create_engine(sqlalchemy_url(context.config.attributes["url"]))
with engine.connect() as conn:
    run_migrations(conn)
engine.dispose()
