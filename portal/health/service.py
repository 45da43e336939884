"""The live state of one catalog service, from its /readyz and /metrics."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from portal.catalog import service as catalog
from portal.integrations import services as probes


@dataclass(frozen=True)
class ServiceHealth:
    slug: str
    base_url: str
    readiness: probes.Readiness | None
    red: probes.Red | None
    error: str | None  # why the service could not be read, for the panel


def live_health(*, session: Session, slug: str) -> ServiceHealth | None:
    """Readiness and RED numbers of the service `slug`; None when it has no base_url."""
    service = catalog.get_service(session=session, slug=slug)
    if service is None or not service.base_url:
        return None
    try:
        ready = probes.readiness(service.base_url)
        numbers = probes.red(service.base_url)
    except probes.ServiceUnavailable as exc:
        return ServiceHealth(slug, service.base_url, None, None, str(exc))
    return ServiceHealth(slug, service.base_url, ready, numbers, None)
