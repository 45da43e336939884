"""The search service's copy of the product catalog, and PostgreSQL full-text search on it."""
from __future__ import annotations

import re
import time
from typing import Any

from sqlalchemy import func, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.engine import Connection

from platform_services.common.app import ApiError
from platform_services.common.validation import SKU
from platform_services.search.models import products

MAX_BATCH, MAX_QUERY, MAX_LIMIT = 1000, 200, 100
FIELDS = ("sku", "name", "description", "category", "price_cents")
CATEGORY = re.compile(r"^[\w .&/-]{1,100}$")


def now_version() -> int:
    """A version for an event that carries none: microseconds since the epoch."""
    return time.time_ns() // 1000


def parse_product(raw: Any, where: str, errors: dict[str, str]) -> dict[str, Any] | None:
    """A product dict, or None with problems added to `errors` under `where`."""
    if not isinstance(raw, dict):
        errors[where] = "an object with sku and name"
        return None
    sku, name = raw.get("sku"), raw.get("name")
    desc, category = raw.get("description", ""), raw.get("category", "")
    price, version = raw.get("price_cents", 0), raw.get("version") or now_version()
    if not isinstance(sku, str) or not SKU.match(sku):
        errors[f"{where}.sku"] = "letters, digits, . _ - (at most 64)"
    if not isinstance(name, str) or not 0 < len(name) <= 300:
        errors[f"{where}.name"] = "1 to 300 characters"
    if not isinstance(desc, str) or len(desc) > 10_000:
        errors[f"{where}.description"] = "at most 10000 characters"
    if not isinstance(category, str) or (category and not CATEGORY.match(category)):
        errors[f"{where}.category"] = "at most 100 letters, digits, spaces, . & / -"
    if isinstance(price, bool) or not isinstance(price, int) or not 0 <= price <= 10**12:
        errors[f"{where}.price_cents"] = "a whole number of cents from 0"
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        errors[f"{where}.version"] = "a positive integer"
    if any(k.startswith(where) for k in errors):
        return None
    return {"sku": sku, "name": name, "description": desc, "category": category,
            "price_cents": price, "version": version}


def parse_batch(raw: Any) -> list[dict[str, Any]]:
    """Up to MAX_BATCH valid products, or a 422 ApiError."""
    if not isinstance(raw, list) or not 0 < len(raw) <= MAX_BATCH:
        raise ApiError(422, "invalid", "invalid products", {"products": f"1 to {MAX_BATCH}"})
    errors: dict[str, str] = {}
    items = [parse_product(p, f"products[{i}]", errors) for i, p in enumerate(raw)]
    if errors:
        raise ApiError(422, "invalid", "invalid products", errors)
    return [item for item in items if item is not None]  # None only with errors


def upsert(conn: Connection, tenant_id: int, items: list[dict[str, Any]]) -> int:
    """Insert or update products (newer versions only); returns rows changed."""
    if not items:
        return 0
    stmt = insert(products).values([{**p, "tenant_id": tenant_id, "deleted": False}
                                    for p in items])
    changes = {c: stmt.excluded[c] for c in (*FIELDS[1:], "version")}
    return conn.execute(stmt.on_conflict_do_update(
        index_elements=[products.c.tenant_id, products.c.sku],
        set_={**changes, "deleted": False, "updated_at": func.now()},
        where=stmt.excluded.version > products.c.version)).rowcount


def delete(conn: Connection, tenant_id: int, sku: str, version: int) -> bool:
    """Tombstone a product, so the indexer deletes it from Elasticsearch too."""
    return conn.execute(update(products).where(
        products.c.tenant_id == tenant_id, products.c.sku == sku,
        products.c.version < version).values(deleted=True, version=version,
                                             updated_at=func.now())).rowcount > 0


_PG_SEARCH = text("""
SELECT sku, name, category, price_cents, ts_rank_cd(search_vector, query) AS score
FROM search.products, websearch_to_tsquery('english', :q) AS query
WHERE tenant_id = :tenant AND NOT deleted AND search_vector @@ query
  AND (CAST(:category AS text) IS NULL OR category = :category)
ORDER BY score DESC, sku
LIMIT :limit
""")


def pg_search(conn: Connection, tenant_id: int, q: str, category: str | None,
              limit: int) -> list[dict[str, Any]]:
    """Ranked products of the tenant matching the web-search style query `q`."""
    rows = conn.execute(_PG_SEARCH, {"q": q, "tenant": tenant_id, "category": category,
                                     "limit": limit})
    return [{"sku": r.sku, "name": r.name, "category": r.category,
             "price_cents": r.price_cents, "score": round(float(r.score), 6)} for r in rows]
