"""Moves changed products from PostgreSQL into Elasticsearch in _bulk batches.

Product events land in PostgreSQL first (the consumer acks only after that commit), with
`indexed_version < version` marking what Elasticsearch lacks; this pass sends those rows
through the tenant alias and marks what was accepted. While Elasticsearch is down the
rows simply wait (the pending gauge shows the backlog) and search answers from
PostgreSQL, so no event is lost and nothing blocks the broker.
"""
from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from datetime import datetime
from itertools import groupby
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.engine import Engine

from platform_services.common.observability import Metrics
from platform_services.search.es_index import ProductIndex
from platform_services.search.models import products

log = logging.getLogger(__name__)


def pending_count(engine: Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(products)
                            .where(products.c.indexed_version < products.c.version)
                            ).scalar_one()


def index_pending(engine: Engine, index: ProductIndex, metrics: Metrics, batch: int) -> int:
    """One pass over rows Elasticsearch lacks; returns how many were indexed."""
    done = 0
    with engine.begin() as conn:
        rows = conn.execute(select(products).where(
            products.c.indexed_version < products.c.version)
            .order_by(products.c.tenant_id, products.c.sku).limit(batch)
            .with_for_update(skip_locked=True)).all()
        for tenant_id, grouped in groupby(rows, key=lambda r: r.tenant_id):
            group = list(grouped)
            index.ensure(tenant_id)
            failed = index.bulk(index.alias(tenant_id), group)
            ok = [(r.tenant_id, r.sku, r.version) for r in group if r.sku not in failed]
            for tid, sku, version in ok:
                conn.execute(update(products).where(
                    products.c.tenant_id == tid, products.c.sku == sku)
                    .values(indexed_version=version))
            done += len(ok)
            if failed:
                metrics.event("index", "failed", len(failed))
    if done:
        metrics.event("index", "ok", done)
    return done


def tenant_batches(engine: Engine, tenant_id: int, size: int) -> Iterator[Sequence[Any]]:
    """All live products of a tenant in SKU order, `size` at a time (keyset pagination)."""
    last = ""
    while True:
        with engine.connect() as conn:
            rows = conn.execute(select(products).where(
                products.c.tenant_id == tenant_id, ~products.c.deleted, products.c.sku > last)
                .order_by(products.c.sku).limit(size)).all()
        if not rows:
            return
        yield rows
        last = rows[-1].sku


def replay_since(engine: Engine, tenant_id: int, since: datetime) -> int:
    """Mark products changed since `since` for indexing again (catch-up after a reindex)."""
    with engine.begin() as conn:
        return conn.execute(update(products).where(
            products.c.tenant_id == tenant_id, products.c.updated_at >= since)
            .values(indexed_version=0)).rowcount
