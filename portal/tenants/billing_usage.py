"""Billing usage to date for the tenant dashboard, read from the billing service and cached
per tenant like the other panels. The billing service is optional for the page: when it
cannot answer, the panel says so (and the notice is cached only briefly)."""
from __future__ import annotations

import logging
from datetime import date

from flask import current_app
from sqlalchemy.orm import Session

from portal.catalog import service as catalog
from portal.db import utcnow
from portal.integrations.billing import BillingClient, BillingUnavailable
from portal.tenants import cache, periods

log = logging.getLogger(__name__)
UNAVAILABLE_SECONDS = 15  # retry a down billing service soon, but not on every request
METER_LABELS = {"api_calls": "API calls", "orders": "Orders", "reports": "Reports",
                "notifications": "Notifications"}


def base_url(*, session: Session) -> str | None:
    """BILLING_URL when set, else the catalog's base_url of the `billing` service."""
    configured = current_app.config.get("BILLING_URL")
    if configured:
        return configured
    entry = catalog.get_service(session=session, slug="billing")
    return entry.base_url if entry is not None and entry.base_url else None


def period_label(period: str, *, today: date) -> str:
    """'1–31 Dec 2026' for the billing period 'YYYY-MM' (today's month when none is known)."""
    year, month = (int(p) for p in period.split("-")) if period else (today.year, today.month)
    return periods.label(*periods.month_bounds(year, month))


def fetch(*, url: str | None, tenant_id: int, timeout: float, today: date) -> dict:
    """The panel's data straight from the billing service (JSON-ready, never raises).

    States: ok (meters with usage), empty (billing knows of no usage this period, also
    for a tenant it has never metered), unavailable, unconfigured.
    """
    if url is None:
        return {"state": "unconfigured"}
    try:
        usage = BillingClient(url, timeout=timeout).usage(tenant_id)
    except BillingUnavailable as exc:
        log.warning("billing usage of tenant %s unavailable: %s", tenant_id, exc)
        return {"state": "unavailable"}
    meters = [{"meter": m.meter, "label": METER_LABELS.get(m.meter, m.meter),
               "total": m.total, "pending": m.pending} for m in usage.meters]
    return {"state": "ok" if any(m["total"] for m in meters) else "empty",
            "period": usage.period, "period_label": period_label(usage.period, today=today),
            "registered": usage.registered, "meters": meters}


def usage_to_date(*, session: Session, tenant_id: int) -> dict:
    """This month's metered usage of one tenant, from the cache or the billing service."""
    url = base_url(session=session)
    return cache.cached(
        cache.key(tenant_id, "billing-panel", url),
        lambda: fetch(url=url, tenant_id=tenant_id,
                      timeout=current_app.config["BILLING_TIMEOUT"], today=utcnow().date()),
        ttl_of=lambda value: (current_app.config["TENANTS_CACHE_SECONDS"]
                              if value["state"] in ("ok", "empty") else UNAVAILABLE_SECONDS))
