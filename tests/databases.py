"""Throwaway PostgreSQL databases for tests and benchmarks: created on the server at
TEST_DATABASE_ADMIN_URL, migrated by the caller's Alembic tree, dropped afterwards."""
from __future__ import annotations

import os
from collections.abc import Callable

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ADMIN_URL = os.environ.get("TEST_DATABASE_ADMIN_URL",
                           "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def create_database(name: str, migrate: Callable[[str], None]) -> str:
    """Create database `name`, run `migrate(url)` on it and return its URL."""
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    url = make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    migrate(url)
    return url


def drop_database(url: str) -> None:
    """Drop a database made by `create_database`, closing leftover connections."""
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
    admin.dispose()
