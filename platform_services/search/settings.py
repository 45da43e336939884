"""Settings of the search service."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class SearchSettings:
    elasticsearch_url: str | None = field(default=None, metadata={
        "env": "ELASTICSEARCH_URL", "help": "Elasticsearch URL. Unset: PostgreSQL full-text "
                                            "search (the embedded default)."})
    es_timeout: float = field(default=3.0, metadata={
        "env": "ES_TIMEOUT", "help": "Seconds before an Elasticsearch call gives up (the "
                                     "search then answers from PostgreSQL)."})
    es_index_prefix: str = field(default="meridian-", metadata={
        "env": "ES_INDEX_PREFIX", "help": "Prefix of index and alias names."})
    es_replicas: int = field(default=2, metadata={
        "env": "ES_REPLICAS", "help": "Replicas per product index."})
    index_interval: float = field(default=1.0, metadata={
        "env": "INDEX_INTERVAL", "help": "Seconds between bulk-indexing passes (index lag "
                                         "SLO: < 30 s)."})
    index_batch: int = field(default=500, metadata={
        "env": "INDEX_BATCH", "help": "Products per _bulk request."})
