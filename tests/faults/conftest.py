"""Fixtures of the fault tests: the services' fixtures (database, broker namespace, auth
service and tokens, service starter), a TCP proxy that can cut, and a PostgreSQL server
the test owns and restarts."""
from __future__ import annotations

import pytest

from platform_services.common import migrate
from tests.faults.postgres import OwnedPostgres
from tests.faults.proxy import FaultProxy
from tests.integration.services.conftest import (  # noqa: F401 (fixtures used by name)
    broker,
    config,
    platform_auth,
    run_prefix,
    run_service,
    services_db,
    tenant,
)


@pytest.fixture
def fault_proxy():
    """A starter of proxies (target port → FaultProxy), all closed at the end."""
    made: list[FaultProxy] = []

    def make(target_port: int) -> FaultProxy:
        made.append(FaultProxy(target_port))
        return made[-1]
    yield make
    for proxy in made:
        proxy.close()


@pytest.fixture
def owned_postgres():
    """A PostgreSQL server of this test's own, migrated with the services' schemas."""
    server = OwnedPostgres()
    try:
        migrate.upgrade(server.url)
        yield server
    finally:
        server.destroy()
