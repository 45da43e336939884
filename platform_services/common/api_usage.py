"""Per-tenant API request counts: what each tenant's dashboard shows as request volume and
error rate.

Prometheus' `meridian_requests_total` has no tenant label on purpose (400 tenants times
every route would blow up its cardinality), so each service also counts the requests of
its `/v1/tenants/<tenant>/...` routes per tenant and hour, in memory, and adds them to
`telemetry.api_requests` every few seconds with one upsert. A failed flush keeps the
counts for the next one; a crash loses at most one interval, which a dashboard of daily
volumes tolerates (billing never reads these rows).

`telemetry` is a schema of its own (Alembic branch `telemetry`) shared by every service,
so the portal's rollup reads one table instead of one per service.
"""
from __future__ import annotations

import logging
import threading
from collections import Counter
from datetime import UTC, datetime

from flask import Flask, Response, g, request
from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    func,
    or_,
    select,
)
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError

from platform_services.common.periodic import Periodic
from platform_services.common.tenants import parse_ref

log = logging.getLogger(__name__)
metadata = MetaData(schema="telemetry")
api_requests = Table(
    "api_requests", metadata,
    Column("tenant_id", Integer, primary_key=True, autoincrement=False),
    Column("hour", DateTime(timezone=True), primary_key=True),
    Column("service", String(40), primary_key=True),
    Column("requests", BigInteger, nullable=False),
    Column("client_errors", BigInteger, nullable=False),
    Column("server_errors", BigInteger, nullable=False),
    Column("updated_at", DateTime(timezone=True), server_default=func.now(), nullable=False),
    # The portal's rollup reads what changed since its watermark.
    Index("ix_api_requests_updated_at", "updated_at"),
)
# Counts of tenants that never resolve (a typo in a URL, a deleted tenant) are dropped,
# and the buffer is bounded so a flood of made-up tenant names cannot grow it forever.
MAX_KEYS = 50_000
FIELDS = ("requests", "client_errors", "server_errors")
# A batch refused for its content (not for an outage) is retried once, then dropped: a
# value the database refuses would otherwise fail every flush from then on.
MAX_CONTENT_FAILURES = 2


def hour_of(moment: datetime) -> datetime:
    """The start of the UTC hour `moment` falls in."""
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


class ApiUsage:
    """Buffers request counts by (tenant as written in the path, hour); `flush` stores them."""

    def __init__(self, service: str, engine: Engine, tenants: Table) -> None:
        self.service, self.engine, self.tenants = service, engine, tenants
        self._counts: dict[tuple[str, datetime], Counter] = {}
        self._failures: dict[tuple[str, datetime], int] = {}
        self._lock = threading.Lock()
        self.dropped = 0

    def record(self, tenant_ref: str, status: int, at: datetime | None = None) -> None:
        """Count one request of `tenant_ref` (slug or id) that answered `status`; a ref
        that can name no tenant (unicode digits, ids beyond INTEGER) is not counted."""
        parsed = parse_ref(tenant_ref)
        if parsed is None:
            return
        key = (str(parsed), hour_of(at or datetime.now(UTC)))
        with self._lock:
            counts = self._counts.get(key)
            if counts is None:
                if len(self._counts) >= MAX_KEYS:
                    self.dropped += 1
                    return
                counts = self._counts[key] = Counter()
            counts["requests"] += 1
            if 400 <= status < 500:
                counts["client_errors"] += 1
            elif status >= 500:
                counts["server_errors"] += 1

    def pending(self) -> dict[tuple[str, datetime], Counter]:
        """A copy of the counts not yet flushed (tests, diagnostics)."""
        with self._lock:
            return {k: Counter(v) for k, v in self._counts.items()}

    def flush(self) -> int:
        """Add the buffered counts to telemetry.api_requests; the number of rows upserted.

        On a database error the counts go back into the buffer for the next flush.
        """
        with self._lock:
            taken, self._counts = self._counts, {}
        if not taken:
            return 0
        try:
            rows = self._rows(taken)
            if rows:
                stmt = insert(api_requests).values(rows)
                with self.engine.begin() as conn:
                    conn.execute(stmt.on_conflict_do_update(
                        index_elements=["tenant_id", "hour", "service"],
                        set_={**{f: api_requests.c[f] + stmt.excluded[f] for f in FIELDS},
                              "updated_at": func.now()}))
            with self._lock:
                for key in taken:
                    self._failures.pop(key, None)
            return len(rows)
        except Exception as exc:
            self._restore(taken, outage=isinstance(exc, OperationalError))
            raise

    def _rows(self, taken: dict[tuple[str, datetime], Counter]) -> list[dict]:
        ids = self._resolve({ref for ref, _ in taken})
        merged: dict[tuple[int, datetime], Counter] = {}
        for (ref, hour), counts in taken.items():
            if ref in ids:
                merged.setdefault((ids[ref], hour), Counter()).update(counts)
        return [{"service": self.service, "tenant_id": tenant_id, "hour": hour,
                 **{f: counts[f] for f in FIELDS}}
                for (tenant_id, hour), counts in sorted(merged.items())]

    def _resolve(self, refs: set[str]) -> dict[str, int]:
        parsed = [parse_ref(r) for r in refs]
        numbers = [p for p in parsed if isinstance(p, int)]
        slugs = [p for p in parsed if isinstance(p, str)]
        t = self.tenants
        with self.engine.connect() as conn:
            found = conn.execute(select(t.c.id, t.c.slug).where(
                or_(t.c.id.in_(numbers), t.c.slug.in_(slugs)))).all()
        ids = {}
        for tenant_id, slug in found:
            ids[str(tenant_id)] = ids[slug] = tenant_id
        return ids

    def _restore(self, taken: dict[tuple[str, datetime], Counter], *, outage: bool) -> None:
        with self._lock:
            for key, counts in taken.items():
                failures = self._failures.get(key, 0) + (0 if outage else 1)
                if failures >= MAX_CONTENT_FAILURES:
                    self._failures.pop(key, None)
                    self.dropped += 1
                    log.error("dropping API usage of tenant %r at %s after %d failed writes: "
                              "%s", key[0][:80], key[1].isoformat(), failures, dict(counts))
                    continue
                self._failures[key] = failures
                if key in self._counts or len(self._counts) < MAX_KEYS:
                    self._counts.setdefault(key, Counter()).update(counts)
                else:
                    self.dropped += 1


def attach(app: Flask, usage: ApiUsage, interval: float) -> Periodic:
    """Count every authenticated request of a route with a `<tenant>` part; the flushing
    thread to start. Refused credentials are not the tenant's traffic: anyone could send them."""
    @app.after_request
    def _count(response: Response) -> Response:
        tenant = (request.view_args or {}).get("tenant")
        if isinstance(tenant, str) and g.get("principal") is not None:
            usage.record(tenant, response.status_code)
        return response

    app.extensions["api_usage"] = usage
    return Periodic(f"api-usage-{usage.service}", interval, usage.flush, final_run=True)
