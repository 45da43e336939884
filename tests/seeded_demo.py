"""Meridian's demo data seeded once per test module, and a statement counter for query-count
tests. Import the fixtures into a conftest (or a test module) that wants them."""
from __future__ import annotations

from contextlib import contextmanager

import pytest
from sqlalchemy import event
from sqlalchemy.orm import Session

from portal.demo.seed import seed_demo
from tests.conftest import FAST_ARGON2

# Statements the savepoint harness itself runs; never the app's.
HARNESS = ("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT")


@pytest.fixture(scope="module")
def seeded_connection(engine):
    """Meridian's demo data, seeded once for the module in a transaction rolled back after."""
    conn = engine.connect()
    outer = conn.begin()
    with Session(bind=conn, join_transaction_mode="create_savepoint") as session:
        seed_demo(session=session, argon2_params=FAST_ARGON2)
        session.commit()
    yield conn
    outer.rollback()
    conn.close()


@pytest.fixture
def connection(seeded_connection):
    """Each test on top of the seeded data, in a savepoint rolled back at its end."""
    nested = seeded_connection.begin_nested()
    yield seeded_connection
    if nested.is_active:
        nested.rollback()


@contextmanager
def counting(connection):
    """The SQL statements the app runs on `connection` inside the block (not the harness's)."""
    seen: list[str] = []

    def count(conn, cursor, statement, *args):
        if not statement.lstrip().upper().startswith(HARNESS):
            seen.append(statement)
    event.listen(connection, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(connection, "before_cursor_execute", count)
