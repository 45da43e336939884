"""Product indices in Elasticsearch (official client): one index per tenant behind an
alias, bulk indexing, search, and zero-downtime reindex by an atomic alias swap.

Readers and the indexer always use the alias `<prefix>products-t<tenant>`; a reindex
builds `<alias>-v<millis>` beside the live index, fills it, then moves the alias in one
`_aliases` call (remove old + add new), so searches never see a half-built index.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Sequence
from typing import Any

from elasticsearch import ApiError, Elasticsearch, NotFoundError, TransportError

from platform_services.search.settings import SearchSettings

log = logging.getLogger(__name__)
ES_ERRORS = (ApiError, TransportError)
MAPPINGS = {"dynamic": "strict", "properties": {  # strict: no mapping explosion
    "sku": {"type": "keyword"},
    "name": {"type": "text", "analyzer": "english",
             "fields": {"suggest": {"type": "search_as_you_type"}}},
    "description": {"type": "text", "analyzer": "english"},
    "category": {"type": "keyword"},
    "price_cents": {"type": "long"},
}}


class ProductIndex:
    def __init__(self, settings: SearchSettings) -> None:
        self.settings = settings
        self.client = Elasticsearch(settings.elasticsearch_url,
                                    request_timeout=settings.es_timeout, max_retries=1,
                                    retry_on_timeout=False)
        self._known: set[int] = set()

    def alias(self, tenant_id: int) -> str:
        return f"{self.settings.es_index_prefix}products-t{tenant_id}"

    def _create(self, name: str, alias: str | None) -> None:
        body: dict[str, Any] = {"settings": {"number_of_shards": 1,
                                             "number_of_replicas": self.settings.es_replicas},
                                "mappings": MAPPINGS}
        if alias:
            body["aliases"] = {alias: {}}
        self.client.indices.create(index=name, **body)

    def ensure(self, tenant_id: int) -> None:
        """Create the tenant's first index behind its alias when there is none."""
        if tenant_id in self._known:
            return
        alias = self.alias(tenant_id)
        if not self.client.indices.exists_alias(name=alias):
            self._create(f"{alias}-v{int(time.time() * 1000)}", alias)
        self._known.add(tenant_id)

    def bulk(self, target: str, rows: Iterable[Any]) -> set[str]:
        """Index (or delete tombstoned) products in one _bulk; returns the SKUs that failed."""
        operations: list[dict[str, Any]] = []
        for row in rows:
            if row.deleted:
                operations.append({"delete": {"_index": target, "_id": row.sku}})
            else:
                operations += [{"index": {"_index": target, "_id": row.sku}},
                               {"sku": row.sku, "name": row.name, "description": row.description,
                                "category": row.category, "price_cents": row.price_cents}]
        if not operations:
            return set()
        answer = self.client.bulk(operations=operations, refresh=False)
        failed = set()
        for item in answer["items"]:
            (action, result), = item.items()
            # Deleting a document that was never indexed (404) is what we wanted anyway.
            if result.get("status", 500) >= 300 and not (action == "delete" and
                                                         result.get("status") == 404):
                failed.add(result["_id"])
                log.error("indexing %s failed: %s", result["_id"], result.get("error"))
        return failed

    def search(self, tenant_id: int, q: str, category: str | None,
               limit: int) -> list[dict[str, Any]]:
        """Ranked products matching `q` (name^3, category^2, description)."""
        query: dict[str, Any] = {"bool": {"must": [{"multi_match": {
            "query": q, "fields": ["name^3", "category^2", "description"]}}]}}
        if category:
            query["bool"]["filter"] = [{"term": {"category": category}}]
        answer = self.client.search(index=self.alias(tenant_id), query=query, size=limit,
                                    source_includes=["sku", "name", "category", "price_cents"])
        return [{**hit["_source"], "score": hit["_score"]} for hit in answer["hits"]["hits"]]

    def reindex(self, tenant_id: int, batches: Iterable[Sequence[Any]]) -> str:
        """Build a new index from `batches`, swap the alias to it, drop the old ones."""
        alias = self.alias(tenant_id)
        new = f"{alias}-v{int(time.time() * 1000)}"
        self._create(new, None)
        for rows in batches:
            failed = self.bulk(new, rows)
            if failed:
                self.client.indices.delete(index=new)
                raise RuntimeError(f"reindex aborted, {len(failed)} products failed")
        try:
            old = list(self.client.indices.get_alias(name=alias))
        except NotFoundError:
            old = []
        actions = [{"remove": {"index": name, "alias": alias}} for name in old]
        self.client.indices.update_aliases(actions=[*actions,
                                                    {"add": {"index": new, "alias": alias}}])
        for name in old:
            self.client.indices.delete(index=name)
        self._known.add(tenant_id)
        return new
