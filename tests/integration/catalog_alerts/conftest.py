"""Meridian's demo data (catalog, runbooks, users), seeded once per module in a transaction
rolled back after; each test runs in a savepoint on top of it."""
from __future__ import annotations

from tests.seeded_demo import connection, counting, seeded_connection  # noqa: F401
