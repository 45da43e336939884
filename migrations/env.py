"""Alembic environment: the URL comes from the portal's settings (or a passed connection)."""
from alembic import context
from sqlalchemy import create_engine

from portal import config as portal_config
from portal.embedded import resolve_database_url
from portal.models import Base

target_metadata = Base.metadata


def run_migrations(connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata,
                      compare_type=True, compare_server_default=False)
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is not None:
    run_migrations(connection)
else:
    url = context.config.attributes.get("url") or resolve_database_url(portal_config.from_env())
    engine = create_engine(url)
    with engine.connect() as conn:
        run_migrations(conn)
    engine.dispose()
