"""Demo dashboard data: a compact synthetic history for a few demo tenants.

When the services' tables exist in this database (their migrations were applied), the
history goes INTO those tables (only when they hold nothing for the demo tenants) and the
rollups are refreshed from them, exactly as the beat task does. Otherwise there is no
source to roll up, and the rollups are written straight from the same generator.
"""
from __future__ import annotations

import math
import random
import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, insert, select, text
from sqlalchemy.orm import Session

from portal.db import utcnow
from portal.tenants import rollups, service, sources
from portal.tenants.models import (
    DURATION_BOUNDS,
    SLA_SECONDS,
    DailyApiRequests,
    DailyFulfillment,
    DailyOrders,
    LowStock,
    Watermark,
)

DEMO_TENANTS = ("acme-retail", "globex-outfitters", "initech-supply")
WAREHOUSES = ("newark", "reno", "dublin")
DAYS = 60
THRESHOLD = 10
# Services a storefront calls through the API gateway, with the requests per hour of a
# tenant of base size 1 (orders, stock checks, product search, logins).
API_SERVICES = {"order": 6, "inventory": 14, "search": 30, "auth": 4}


@dataclass
class DemoOrder:
    id: str
    tenant_id: int
    created_at: datetime
    status: str
    warehouse: str
    units: int
    fulfill_seconds: float | None


def _status(rng: random.Random, age: timedelta) -> str:
    roll = rng.random()
    if roll < 0.06:
        return "canceled"
    if age < timedelta(hours=2):
        return "pending" if roll < 0.5 else "confirmed"
    return "confirmed" if roll < 0.08 else "fulfilled"


def orders(tenant_id: int, now: datetime) -> list[DemoOrder]:
    """A deterministic order history of one tenant over the last DAYS days."""
    rng = random.Random(tenant_id)
    out, base = [], 15 + tenant_id % 20
    for days_ago in range(DAYS):
        day = (now - timedelta(days=days_ago)).replace(hour=0, minute=0, second=0,
                                                        microsecond=0)
        weekend = 0.6 if day.weekday() >= 5 else 1.0
        for _ in range(int(base * weekend * (1 + 0.3 * math.sin(days_ago / 5)))):
            created = day + timedelta(seconds=rng.randrange(86400))
            if created > now:
                continue
            status = _status(rng, now - created)
            seconds = None
            if status == "fulfilled":
                seconds = (rng.uniform(600, 3600) if rng.random() < 0.01
                           else rng.lognormvariate(math.log(90), 0.5))
            out.append(DemoOrder(str(uuid.UUID(int=rng.getrandbits(128))), tenant_id,
                                 created, status, rng.choice(WAREHOUSES[:2 + tenant_id % 2]),
                                 rng.randint(1, 6), seconds))
    return out


def stock(tenant_id: int) -> list[tuple[str, str, int, int]]:
    """(sku, warehouse, on_hand, reserved) of one tenant; a few SKUs run low."""
    rng = random.Random(tenant_id * 7)
    rows = []
    for n in range(40):
        on_hand = rng.randint(0, 14) if n % 6 == 0 else rng.randint(40, 400)
        rows.append((f"SKU-{n:04d}", rng.choice(WAREHOUSES[:2]), on_hand,
                     rng.randint(0, min(on_hand, 5))))
    return rows


def api_usage(tenant_id: int, now: datetime) -> list[dict]:
    """Hourly API request counts per service over the last DAYS days (a daily rhythm, about
    2 % client errors, and one bad hour of server errors three days ago)."""
    rng = random.Random(tenant_id * 13)
    scale = 1 + tenant_id % 4
    top = now.replace(minute=0, second=0, microsecond=0)
    rows = []
    for hours_ago in range(DAYS * 24):
        hour = top - timedelta(hours=hours_ago)
        rhythm = 0.3 + 0.7 * max(0.0, math.sin(math.pi * (hour.hour - 6) / 16))
        for name, per_hour in API_SERVICES.items():
            requests = int(per_hour * scale * rhythm * rng.uniform(0.8, 1.2)) + 1
            bad_hour = hours_ago == 72 and name == "order"
            rows.append({"service": name, "tenant_id": tenant_id, "hour": hour,
                         "requests": requests,
                         "client_errors": sum(rng.random() < 0.02 for _ in range(requests)),
                         "server_errors": requests // 3 if bad_hour else
                         sum(rng.random() < 0.001 for _ in range(requests))})
    return rows


def seed(*, session: Session) -> None:
    """Dashboard history for the demo tenants (idempotent)."""
    tenants = [t for t in (service.get_by_slug(session=session, slug=s) for s in DEMO_TENANTS)
               if t is not None]
    conn = session.connection()
    now = utcnow()
    present = sources.present(conn)
    if {sources.ORDERS, "orders.order_lines", sources.SHIPMENTS, sources.STOCK} <= present:
        for tenant in tenants:
            _seed_services(session, tenant, now)
            if sources.API_REQUESTS in present:
                _seed_api_usage(session, tenant.id, now)
        rollups.refresh(session=session, source=conn, low_stock_threshold=THRESHOLD)
        return
    for tenant in tenants:
        _write_rollups(session, tenant.id, orders(tenant.id, now), stock(tenant.id), now)
        _write_api_rollup(session, tenant.id, api_usage(tenant.id, now))
    for source in (sources.ORDERS, sources.STOCK, sources.API_REQUESTS):
        session.merge(Watermark(source=source, watermark=None, refreshed_at=now))
    session.flush()


def _seed_services(session: Session, tenant, now: datetime) -> None:
    if session.scalar(select(func.count()).select_from(sources.orders).where(
            sources.orders.c.tenant_id == tenant.id)):
        return  # the services already hold data for this tenant: never add a second copy
    for schema in ("orders", "inventory"):
        session.execute(text(f"INSERT INTO {schema}.tenants (id, slug, name) VALUES "
                             "(:id, :slug, :name) ON CONFLICT (id) DO NOTHING"),
                        {"id": tenant.id, "slug": tenant.slug, "name": tenant.name})
    history = orders(tenant.id, now)
    session.execute(insert(sources.orders), [
        {"id": o.id, "tenant_id": o.tenant_id, "status": o.status, "customer_ref": "demo",
         "total_quantity": o.units, "created_at": o.created_at,
         "updated_at": o.created_at + timedelta(seconds=60 + (o.fulfill_seconds or 0))}
        for o in history])
    session.execute(insert(sources.order_lines), [
        {"order_id": o.id, "sku": "SKU-0001", "quantity": o.units, "warehouse": o.warehouse}
        for o in history])
    shipped = [o for o in history if o.status == "fulfilled"]
    if shipped:
        session.execute(insert(sources.shipments), [
            {"tenant_id": o.tenant_id, "tenant": tenant.slug, "order_id": o.id,
             "warehouse": o.warehouse,
             "carrier": "ups", "status": "shipped",
             "confirmed_at": o.created_at + timedelta(seconds=60),
             "created_at": o.created_at + timedelta(seconds=60),
             # fulfilled orders always have fulfill_seconds; `or 0` only narrows the type
             "updated_at": o.created_at + timedelta(seconds=60 + (o.fulfill_seconds or 0))}
            for o in shipped])
    session.execute(insert(sources.stock), [
        {"tenant_id": tenant.id, "sku": sku, "warehouse": wh, "on_hand": on_hand,
         "reserved": reserved, "updated_at": now}
        for sku, wh, on_hand, reserved in stock(tenant.id)])


def _seed_api_usage(session: Session, tenant_id: int, now: datetime) -> None:
    table = sources.api_requests
    if session.scalar(select(func.count()).select_from(table).where(
            table.c.tenant_id == tenant_id)):
        return
    session.execute(insert(table), api_usage(tenant_id, now))


def _write_api_rollup(session: Session, tenant_id: int, hourly: list[dict]) -> None:
    session.execute(delete(DailyApiRequests).where(DailyApiRequests.tenant_id == tenant_id))
    daily: dict[tuple, list[int]] = defaultdict(lambda: [0, 0, 0])
    for row in hourly:
        totals = daily[(row["hour"].date(), row["service"])]
        for i, name in enumerate(("requests", "client_errors", "server_errors")):
            totals[i] += row[name]
    session.execute(insert(DailyApiRequests), [
        {"tenant_id": tenant_id, "day": d, "service": name, "requests": r,
         "client_errors": c, "server_errors": e} for (d, name), (r, c, e) in daily.items()])


def _write_rollups(session: Session, tenant_id: int, history: list[DemoOrder],
                   stock_rows: list[tuple], now: datetime) -> None:
    for model in (DailyOrders, DailyFulfillment, LowStock):
        session.execute(delete(model).where(model.tenant_id == tenant_id))
    counts: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])
    hist: dict[tuple, list[int]] = defaultdict(lambda: [0] * (len(DURATION_BOUNDS) + 1))
    within: dict[tuple, int] = defaultdict(int)
    for o in history:
        key = (o.created_at.date(), o.warehouse)
        counts[(*key, o.status)][0] += 1
        counts[(*key, o.status)][1] += o.units
        if o.fulfill_seconds is not None:
            hist[key][sum(1 for b in DURATION_BOUNDS if b <= o.fulfill_seconds)] += 1
            within[key] += o.fulfill_seconds <= SLA_SECONDS
    session.execute(insert(DailyOrders), [
        {"tenant_id": tenant_id, "day": d, "warehouse": w, "status": s, "orders": n, "units": u}
        for (d, w, s), (n, u) in counts.items()])
    session.execute(insert(DailyFulfillment), [
        {"tenant_id": tenant_id, "day": d, "warehouse": w, "shipments": sum(b),
         "within_sla": within[(d, w)], "buckets": b}
        for (d, w), b in hist.items()])
    low = [{"tenant_id": tenant_id, "sku": sku, "warehouse": wh, "on_hand": on_hand,
            "reserved": reserved, "available": on_hand - reserved, "updated_at": now}
           for sku, wh, on_hand, reserved in stock_rows if on_hand - reserved <= THRESHOLD]
    if low:
        session.execute(insert(LowStock), low)
