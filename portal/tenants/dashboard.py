"""A tenant's dashboard aggregates, read from the rollups and cached per tenant.

Every query names the tenant id explicitly: the reads go through the reporting connection,
where the ORM's automatic tenant filter does not apply.
"""
from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import Connection, distinct, func, select, union
from sqlalchemy.orm import Session

from portal.tenants import cache, sources
from portal.tenants.models import (
    DURATION_BOUNDS,
    DailyApiRequests,
    DailyFulfillment,
    DailyOrders,
    LowStock,
)

MAX_DAYS = 366
DEFAULT_DAYS = 30
LOW_STOCK_ROWS = 25
WAREHOUSE = re.compile(r"^[A-Za-z0-9_.-]{1,63}$")
# ASCII only: date.fromisoformat would take other scripts' digits and odd ISO forms.
ISO_DAY = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$", re.ASCII)
STATUSES = ("pending", "confirmed", "fulfilled", "canceled")
PRESETS = {"24h": "24 h", "7d": "7 d", "30d": "30 d", "month": "This month",
           "custom": "Custom"}
COMPARE_ON = ("1", "on", "true")
FILTER_ARGS = ("from", "to", "warehouse", "compare")


class FilterError(ValueError):
    """The filters cannot be used; `errors` says why per field, in the user's words."""

    def __init__(self, errors: dict[str, str]):
        super().__init__(" ".join(errors.values()))
        self.errors = errors


@dataclass(frozen=True)
class Filters:
    """What the dashboard shows: a range of days, maybe one warehouse, maybe a comparison."""

    date_from: date
    date_to: date
    warehouse: str | None
    preset: str = "custom"
    compare: bool = False

    def as_args(self) -> dict:
        """The filters as query arguments (dates resolved, so a link shows the same data)."""
        return {"from": self.date_from.isoformat(), "to": self.date_to.isoformat(),
                "warehouse": self.warehouse or "", "compare": "1" if self.compare else ""}

    def previous(self) -> Filters:
        """The period of the same length that ends the day before this one starts."""
        length = self.date_to - self.date_from
        end = self.date_from - timedelta(days=1)
        return Filters(end - length, end, self.warehouse)


def preset_range(preset: str, today: date) -> tuple[date, date]:
    """First and last day of a range preset; rollups are daily, so 24 h is yesterday and today."""
    start = {"24h": today - timedelta(days=1), "7d": today - timedelta(days=6),
             "30d": today - timedelta(days=DEFAULT_DAYS - 1),
             "month": today.replace(day=1)}[preset]
    return start, today


def _day(args: Mapping, name: str, default: date, errors: dict) -> date:
    raw = (args.get(name) or "").strip()
    if not raw:
        return default
    try:
        if ISO_DAY.match(raw):
            return date.fromisoformat(raw)
    except ValueError:
        pass
    errors[name] = f"'{name}' must be a date like 2026-11-01, not {raw[:20]!r}."
    return default


def parse_filters(args: Mapping, *, today: date,
                  warehouses: Collection[str] | None = None) -> Filters:
    """Range (preset or dates), warehouse and comparison from query arguments.

    The default is the last 30 days; `warehouses`, when given, are the only ones allowed.
    """
    errors: dict[str, str] = {}
    preset = (args.get("range") or "").strip()
    if preset and preset not in PRESETS:
        errors["range"] = f"Choose a range among {', '.join(PRESETS.values())}."
    if preset in PRESETS and preset != "custom":
        date_from, date_to = preset_range(preset, today)
    else:
        date_to = _day(args, "to", today, errors)
        date_from = _day(args, "from", date_to - timedelta(days=DEFAULT_DAYS - 1), errors)
        if not errors and date_from > date_to:
            errors["from"] = "The start date is after the end date."
        elif not errors and (date_to - date_from).days + 1 > MAX_DAYS:
            errors["from"] = f"A range covers at most {MAX_DAYS} days."
        preset = next((p for p in PRESETS if p != "custom"
                       and preset_range(p, today) == (date_from, date_to)), "custom")
    warehouse = (args.get("warehouse") or "").strip() or None
    if warehouse is not None and not WAREHOUSE.match(warehouse):
        errors["warehouse"] = "A warehouse name has letters, digits, '.', '_' or '-' only."
    elif warehouse is not None and warehouses is not None and warehouse not in warehouses:
        errors["warehouse"] = f"No warehouse {warehouse!r} holds this tenant's stock."
    compare = (args.get("compare") or "").strip().lower()
    if compare and compare not in COMPARE_ON:
        errors["compare"] = "Comparison is either on or off."
    if errors:
        raise FilterError(errors)
    return Filters(date_from, date_to, warehouse, preset, bool(compare))


def filter_form(args: Mapping, *, today: date,
                warehouses: Collection[str]) -> tuple[Filters, dict]:
    """The filters to show data for and the filter form's state: values, messages, choices.

    Unusable filters give the default range with the values as typed and a message per field.
    """
    errors: dict[str, str] = {}
    try:
        filters = parse_filters(args, today=today, warehouses=warehouses)
        values = filters.as_args()
    except FilterError as exc:
        errors, filters = exc.errors, parse_filters({}, today=today)
        values = {name: (args.get(name) or "")[:64] for name in FILTER_ARGS}
    return filters, {"values": values, "errors": errors, "warehouses": warehouses,
                     "presets": PRESETS, "max_days": MAX_DAYS}


def quantile(buckets: list[int], q: float) -> float | None:
    """The q-quantile in seconds of a duration histogram, interpolated inside its bucket."""
    total = sum(buckets)
    if total == 0:
        return None
    target, seen = q * total, 0
    for index, count in enumerate(buckets):
        if count and seen + count >= target:
            lower = DURATION_BOUNDS[index - 1] if index else 0
            upper = DURATION_BOUNDS[min(index, len(DURATION_BOUNDS) - 1)]
            return lower + (upper - lower) * (target - seen) / count
        seen += count
    return float(DURATION_BOUNDS[-1])


def aggregates(*, session: Session, tenant_id: int, filters: Filters, today: date) -> dict:
    """Everything the dashboard shows for one tenant, from the cache or the rollups."""
    key = cache.key(tenant_id, "dashboard", filters.date_from, filters.date_to,
                    filters.warehouse, today)

    def compute() -> dict:
        with sources.reading(session) as conn:
            return compute_aggregates(conn, tenant_id=tenant_id, filters=filters, today=today)
    return cache.cached(key, compute)


def warehouses(*, session: Session, tenant_id: int, today: date) -> list[str]:
    """The tenant's warehouses (those with orders or stock), by name, cached per tenant."""
    def compute() -> list[str]:
        with sources.reading(session) as conn:
            return _warehouses(conn, tenant_id)
    return cache.cached(cache.key(tenant_id, "warehouses", today), compute)


def _change(now: float | None, before: float | None) -> dict | None:
    if now is None or before is None:
        return None
    diff = round(now - before, 3)
    return {"diff": diff, "pct": round(100.0 * diff / before, 1) if before else None}


def deltas(current: dict, previous: dict) -> dict[str, dict | None]:
    """Change of each summary figure against the previous period (None when unknowable)."""
    def orders(d):
        return sum(d["orders"]["totals"].values())

    def minutes(d, q):
        value = d["fulfillment"]["overall"][q]
        return None if value is None else round(value / 60, 1)
    return {"orders": _change(orders(current), orders(previous)),
            "units": _change(current["orders"]["units"], previous["orders"]["units"]),
            "p50": _change(minutes(current, "p50"), minutes(previous, "p50")),
            "p95": _change(minutes(current, "p95"), minutes(previous, "p95")),
            "api_requests": _change(current["api"]["totals"]["requests"],
                                    previous["api"]["totals"]["requests"]),
            "api_error_rate": _change(current["api"]["totals"]["error_rate"],
                                      previous["api"]["totals"]["error_rate"])}


def sla_this_month(*, session: Session, tenant_id: int, today: date) -> dict:
    """SLA compliance of the current month over every warehouse (cached per tenant)."""
    month = Filters(today.replace(day=1), today, None)

    def compute() -> dict:
        with sources.reading(session) as conn:
            return _sla(conn, tenant_id, month, today)
    return cache.cached(cache.key(tenant_id, "sla-month", today), compute)


def _where(model, tenant_id: int, filters: Filters, start: date, end: date):
    clauses = [model.tenant_id == tenant_id, model.day.between(start, end)]
    if filters.warehouse:
        clauses.append(model.warehouse == filters.warehouse)
    return clauses


def compute_aggregates(conn: Connection, *, tenant_id: int, filters: Filters,
                       today: date) -> dict:
    """The dashboard's aggregates computed from the rollup tables (JSON-ready)."""
    days = [filters.date_from + timedelta(days=i)
            for i in range((filters.date_to - filters.date_from).days + 1)]
    return {"days": [d.isoformat() for d in days],
            "orders": _orders(conn, tenant_id, filters, days),
            "fulfillment": _fulfillment(conn, tenant_id, filters, days),
            "low_stock": _low_stock(conn, tenant_id, filters),
            "sla": _sla(conn, tenant_id, filters, today),
            "api": _api(conn, tenant_id, days),
            "warehouses": _warehouses(conn, tenant_id)}


def _orders(conn, tenant_id, filters, days) -> dict:
    o = DailyOrders
    rows = conn.execute(select(o.day, o.status, func.sum(o.orders), func.sum(o.units))
                        .where(*_where(o, tenant_id, filters, days[0], days[-1]))
                        .group_by(o.day, o.status)).all()
    index = {d: i for i, d in enumerate(days)}
    per_status = {s: [0] * len(days) for s in STATUSES}
    units = 0
    for day, status, count, unit_sum in rows:
        if status not in per_status:
            per_status[status] = [0] * len(days)
        per_status[status][index[day]] += int(count)
        units += int(unit_sum or 0)
    return {"per_status": per_status,
            "totals": {s: sum(v) for s, v in per_status.items()}, "units": units}


def _fulfillment(conn, tenant_id, filters, days) -> dict:
    f = DailyFulfillment
    rows = conn.execute(select(f.day, f.buckets)
                        .where(*_where(f, tenant_id, filters, days[0], days[-1]))).all()
    width = len(DURATION_BOUNDS) + 1
    by_day: dict = {}
    for day, buckets in rows:
        merged = by_day.get(day)
        by_day[day] = buckets if merged is None else [a + b for a, b in zip(merged, buckets)]
    overall = [sum(col) for col in zip(*by_day.values())] if by_day else [0] * width
    empty = [0] * width
    return {"p50": [quantile(by_day.get(d, empty), .5) for d in days],
            "p95": [quantile(by_day.get(d, empty), .95) for d in days],
            "overall": {"p50": quantile(overall, .5), "p95": quantile(overall, .95),
                        "shipments": sum(overall)}}


def _rate(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 3) if whole else None


def _api(conn, tenant_id, days) -> dict:
    """Requests, client (4xx) and server (5xx) errors per day and per service.

    API requests belong to no warehouse, so the warehouse filter does not apply to them.
    """
    a = DailyApiRequests
    sums = (func.sum(a.requests), func.sum(a.client_errors), func.sum(a.server_errors))
    where = (a.tenant_id == tenant_id, a.day.between(days[0], days[-1]))
    index = {d: i for i, d in enumerate(days)}
    per_day = {name: [0] * len(days) for name in ("requests", "client_errors", "server_errors")}
    for day, *counts in conn.execute(select(a.day, *sums).where(*where).group_by(a.day)):
        for values, count in zip(per_day.values(), counts):
            values[index[day]] = int(count)
    by_service = conn.execute(select(a.service, *sums).where(*where).group_by(a.service)
                              .order_by(func.sum(a.requests).desc(), a.service)).all()
    totals = {name: sum(values) for name, values in per_day.items()}
    return {**per_day,
            "error_rate": [_rate(e, r) for e, r in zip(per_day["server_errors"],
                                                       per_day["requests"])],
            "totals": {**totals, "error_rate": _rate(totals["server_errors"], totals["requests"]),
                       "client_error_rate": _rate(totals["client_errors"], totals["requests"])},
            "by_service": [[name, int(r), int(c), int(e), _rate(int(e), int(r))]
                           for name, r, c, e in by_service]}


def _low_stock(conn, tenant_id, filters) -> list[list]:
    s = LowStock
    stmt = select(s.sku, s.warehouse, s.on_hand, s.reserved, s.available).where(
        s.tenant_id == tenant_id)
    if filters.warehouse:
        stmt = stmt.where(s.warehouse == filters.warehouse)
    stmt = stmt.order_by(s.available, s.sku, s.warehouse).limit(LOW_STOCK_ROWS)
    return [list(row) for row in conn.execute(stmt)]


def _sla(conn, tenant_id, filters, today: date) -> dict:
    f = DailyFulfillment
    month_start = today.replace(day=1)
    shipped, within = conn.execute(
        select(func.coalesce(func.sum(f.shipments), 0), func.coalesce(func.sum(f.within_sla), 0))
        .where(*_where(f, tenant_id, filters, month_start, today))).one()
    return {"month": month_start.strftime("%B %Y"), "shipments": int(shipped),
            "within": int(within),
            "pct": round(100.0 * within / shipped, 3) if shipped else None}


def _warehouses(conn, tenant_id) -> list[str]:
    names = union(select(distinct(DailyOrders.warehouse)).where(
                      DailyOrders.tenant_id == tenant_id),
                  select(distinct(LowStock.warehouse)).where(LowStock.tenant_id == tenant_id))
    return sorted(conn.scalars(names))
