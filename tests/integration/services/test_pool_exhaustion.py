"""A service whose connection pool is exhausted answers 503 with Retry-After, never 500,
and serves again once a connection is free."""
from __future__ import annotations

import pytest

from tests.integration.services.servers import register, stock
from tests.integration.services.tokens import api

pytestmark = pytest.mark.integration


def test_exhausted_pool_answers_503_with_retry_after(config, run_service, tenant):
    inventory = run_service(config("inventory", db_pool_size=1, db_max_overflow=0,
                                   db_pool_timeout=0.5))
    register(inventory.url, tenant)
    stock(inventory.url, tenant[1], "us-east-1a", {"SKU-1": 5})
    url = f"{inventory.url}/v1/tenants/{tenant[1]}/stock/SKU-1"
    engine = inventory.service.engines[0]

    with engine.connect():  # the pool's only connection, held
        busy = api.get(url, timeout=10)
    after = api.get(url, timeout=10)

    assert busy.status_code == 503, busy.text
    assert busy.headers["Retry-After"] == "1"
    assert busy.json()["error"] == "overloaded"
    assert after.status_code == 200 and after.json()["available"] == 5
