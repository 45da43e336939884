"""Tables of the `search` schema: the products of every tenant (the reindex source and the
PostgreSQL search index) and the inbox of the product-event consumer."""
from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Computed,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    func,
)
from sqlalchemy.dialects.postgresql import TSVECTOR

from platform_services.common.outbox import inbox_table
from platform_services.common.tenants import tenants_table

metadata = MetaData(schema="search")
tenants = tenants_table(metadata)
processed = inbox_table(metadata)

# Name weighs most, then category, then description (same boosts as the ES query).
SEARCH_VECTOR = ("setweight(to_tsvector('english'::regconfig, coalesce(name, '')), 'A') || "
                 "setweight(to_tsvector('english'::regconfig, coalesce(category, '')), 'B') || "
                 "setweight(to_tsvector('english'::regconfig, coalesce(description, '')), 'C')")

products = Table(
    "products", metadata,
    Column("tenant_id", Integer, ForeignKey("search.tenants.id"), nullable=False),
    Column("sku", String(64), nullable=False),
    Column("name", String(300), nullable=False),
    Column("description", Text, nullable=False, server_default=""),
    Column("category", String(100), nullable=False, server_default=""),
    Column("price_cents", BigInteger, nullable=False, server_default="0"),
    Column("deleted", Boolean, nullable=False, server_default="false"),
    # Event ordering: an older event (lower version) never overwrites a newer one.
    Column("version", BigInteger, nullable=False),
    # What Elasticsearch holds; rows with indexed_version < version wait for the indexer.
    Column("indexed_version", BigInteger, nullable=False, server_default="0"),
    Column("updated_at", DateTime(timezone=True), server_default=func.now(), nullable=False),
    Column("search_vector", TSVECTOR, Computed(SEARCH_VECTOR, persisted=True)),
    PrimaryKeyConstraint("tenant_id", "sku"),
    # btree_gin lets one GIN index hold the tenant too: a query touches only the tenant's
    # matching rows instead of every tenant's matches for a common word.
    Index("ix_products_tenant_search", "tenant_id", "search_vector", postgresql_using="gin"),
    Index("ix_products_unindexed", "tenant_id", "sku",
          postgresql_where="indexed_version < version"),
)
