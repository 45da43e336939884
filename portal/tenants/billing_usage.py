"""Billing usage to date for the tenant dashboard, read from the billing service and cached
per tenant like the other panels. The billing service is optional for the page: when it
cannot answer, the panel says so (and the notice is cached only briefly)."""
from __future__ import annotations

import logging

from flask import current_app
from sqlalchemy.orm import Session

from portal.catalog import service as catalog
from portal.integrations.billing import BillingClient, BillingUnavailable
from portal.tenants import cache

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


def fetch(*, url: str | None, tenant_id: int, timeout: float) -> dict:
    """The panel's data straight from the billing service (JSON-ready, never raises)."""
    if url is None:
        return {"state": "unconfigured"}
    try:
        usage = BillingClient(url, timeout=timeout).usage(tenant_id)
    except BillingUnavailable as exc:
        log.warning("billing usage of tenant %s unavailable: %s", tenant_id, exc)
        return {"state": "unavailable"}
    return {"state": "ok", "period": usage.period, "registered": usage.registered,
            "meters": [{"meter": m.meter, "label": METER_LABELS.get(m.meter, m.meter),
                        "total": m.total, "pending": m.pending} for m in usage.meters]}


def usage_to_date(*, session: Session, tenant_id: int) -> dict:
    """This month's metered usage of one tenant, from the cache or the billing service."""
    url = base_url(session=session)
    return cache.cached(
        cache.key(tenant_id, "billing-usage", url),
        lambda: fetch(url=url, tenant_id=tenant_id,
                      timeout=current_app.config["BILLING_TIMEOUT"]),
        ttl_of=lambda value: (current_app.config["TENANTS_CACHE_SECONDS"]
                              if value["state"] == "ok" else UNAVAILABLE_SECONDS))
