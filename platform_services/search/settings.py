"""Settings of the search service."""
from __future__ import annotations

from pydantic import Field

from platform_services.common.settings import EnvSettings, OptionalText, Text


class SearchSettings(EnvSettings):
    elasticsearch_url: OptionalText = Field(None, alias="ELASTICSEARCH_URL", description=(
        "Elasticsearch URL. Unset: PostgreSQL full-text search (the embedded default)."))
    es_timeout: float = Field(3.0, alias="ES_TIMEOUT", description=(
        "Seconds before an Elasticsearch call gives up (the search then answers from PostgreSQL)."))
    es_index_prefix: Text = Field("meridian-", alias="ES_INDEX_PREFIX", description=(
        "Prefix of index and alias names."))
    es_replicas: int = Field(2, alias="ES_REPLICAS", description="Replicas per product index.")
    index_interval: float = Field(1.0, alias="INDEX_INTERVAL", description=(
        "Seconds between bulk-indexing passes (index lag SLO: < 30 s)."))
    index_batch: int = Field(500, alias="INDEX_BATCH", description="Products per _bulk request.")
