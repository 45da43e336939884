"""Point the catalog's services that run locally (`portal dev`) at their dev addresses."""
from __future__ import annotations

from sqlalchemy.orm import Session

from portal.catalog import service as catalog

# The ports `portal dev` starts the platform services on (portal/devserver.py uses these).
LOCAL_PORTS = {"order": 8101, "inventory": 8102, "fulfillment": 8103, "worker": 8104,
               "auth": 8106, "billing": 8107, "notification": 8108, "search": 8109}


def local_url(slug: str) -> str:
    """Where `portal dev` serves the service `slug`."""
    return f"http://127.0.0.1:{LOCAL_PORTS[slug]}"


def seed(*, session: Session) -> None:
    """Set `base_url` of the locally run services (idempotent)."""
    for slug in LOCAL_PORTS:
        service = catalog.get_service(session=session, slug=slug)
        if service is not None and service.base_url != local_url(slug):
            catalog.upsert_service(session=session, slug=slug, team=service.team,
                                   base_url=local_url(slug))
