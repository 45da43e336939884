"""The stock cache keeps the newest version of a SKU whatever order writers arrive in
(real Redis)."""
from __future__ import annotations

import pytest

from platform_services.inventory.cache import StockCache
from platform_services.inventory.service import SkuLevels

pytestmark = pytest.mark.integration


def _level(available: int, version: int) -> SkuLevels:
    return SkuLevels([{"sku": "SKU-A", "warehouse": "w1", "on_hand": 10,
                       "reserved": 10 - available, "available": available}], version)


def test_an_older_write_never_replaces_a_newer_one(redis_client, run_prefix):
    cache = StockCache(redis_client, run_prefix)
    cache.write(7, "SKU-A", _level(available=0, version=200))
    cache.write(7, "SKU-A", _level(available=1, version=100))  # a writer that was late
    rows, source = cache.read(7, "SKU-A", lambda: pytest.fail("should be cached"))
    assert (source, rows[0]["available"]) == ("cache", 0)
    cache.write(7, "SKU-A", _level(available=5, version=300))
    assert cache.read(7, "SKU-A", lambda: None)[0][0]["available"] == 5
