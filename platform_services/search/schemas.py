"""What the search service's routes take and answer (its OpenAPI operations)."""
from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints

from platform_services.common.openapi import Operation
from platform_services.common.schemas import MAX_INT8, NO_NUL, SKU_PATTERN, Body, Query, Text
from platform_services.search.catalog import MAX_BATCH, MAX_LIMIT, MAX_QUERY

CATEGORY_PATTERN = r"^[\w .&/-]{1,100}$"


class SearchQuery(Query):
    """Full-text search in one tenant's products."""
    q: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                        max_length=MAX_QUERY, pattern=NO_NUL)] = \
        Field(description=f"1 to {MAX_QUERY} characters")
    category: str | None = Field(None, pattern=CATEGORY_PATTERN, description="a category name")
    limit: int = Field(20, ge=1, le=MAX_LIMIT, description=f"1 to {MAX_LIMIT}")


class Product(Body):
    """One product; a lower `version` than the stored one changes nothing."""
    sku: str = Field(pattern=SKU_PATTERN, description="letters, digits, . _ - (at most 64)")
    name: Annotated[Text, Field(min_length=1, max_length=300)] = Field(
        description="1 to 300 characters")
    description: Annotated[Text, Field(max_length=10_000)] = Field(
        "", description="at most 10000 characters")
    category: str = Field("", pattern=r"^([\w .&/-]{1,100})?$",
                          description="at most 100 letters, digits, spaces, . & / -")
    price_cents: int = Field(0, ge=0, le=10**12, description="a whole number of cents from 0")
    version: int | None = Field(None, ge=1, le=MAX_INT8, description="a positive integer")


class ProductBatch(Body):
    """Products to insert or update."""
    products: list[Product] = Field(min_length=1, max_length=MAX_BATCH,
                                    description=f"1 to {MAX_BATCH}")


OPERATIONS = {
    "search.search": Operation("Search the tenant's products", query=SearchQuery),
    "search.load_products": Operation("Insert or update products", body=ProductBatch),
    "search.reindex": Operation("Rebuild the tenant's Elasticsearch index",
                                errors=(409, 503)),
}
