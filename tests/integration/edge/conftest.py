"""Fixtures of the edge tests: the services' own fixtures (a migrated services database,
the broker names of this run, the auth service whose tokens they trust, service configs
and a starter that stops what it started, a fresh tenant)."""
from tests.integration.services.conftest import (  # noqa: F401 (pytest fixtures)
    broker,
    config,
    platform_auth,
    run_prefix,
    run_service,
    services_db,
    tenant,
)
