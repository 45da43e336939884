"""Dead letters of the platform services: what each service's DLQs hold, and redriving
or discarding them through the services' dead-letter API.

Every catalog service with a base URL is asked; one that has no such API (not a platform
service, or the portal's token lacks the scope) is shown as such, one that does not answer
as unreachable, so the page always renders.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from portal.catalog import service as catalog
from portal.integrations import services as probes

ACTIONS = probes.DLQ_ACTIONS


class DeadLetterError(Exception):
    """An action that could not be done; the message says why, for the page."""


@dataclass(frozen=True)
class ServiceDeadLetters:
    slug: str
    name: str
    queues: list[probes.DeadLetterQueue] = field(default_factory=list)
    error: str | None = None  # unreachable: the lists may be stale or missing
    no_api: str | None = None  # answers, but offers no dead-letter queues to the portal

    @property
    def total(self) -> int:
        return sum(q.count for q in self.queues)


def probed_services(*, session: Session) -> list:
    """Catalog services the page asks: those with a base URL."""
    return [s for s in catalog.list_services(session=session) if s.base_url]


def of_service(*, session: Session, slug: str) -> ServiceDeadLetters | None:
    """The DLQs of the service `slug`; None when it is unknown or has no base URL."""
    service = catalog.get_service(session=session, slug=slug)
    if service is None or not service.base_url:
        return None
    try:
        queues = probes.dead_letters(service.base_url)
    except probes.DeadLettersRefused as exc:
        return ServiceDeadLetters(service.slug, service.name, no_api=str(exc))
    except probes.ServiceUnavailable as exc:
        return ServiceDeadLetters(service.slug, service.name, error=str(exc))
    return ServiceDeadLetters(service.slug, service.name, queues)


def act(*, session: Session, slug: str, queue: str, action: str) -> int:
    """Redrive or discard the dead letters of `queue` at service `slug`; how many."""
    if action not in ACTIONS:
        raise DeadLetterError(f"Unknown action {action[:40]!r}: use redrive or discard.")
    service = catalog.get_service(session=session, slug=slug)
    if service is None or not service.base_url:
        raise LookupError(slug)
    try:
        return probes.act_on_dead_letters(service.base_url, queue, action)
    except probes.DeadLettersRefused as exc:
        raise DeadLetterError(f"The service refused: {exc}") from exc
    except probes.ServiceUnavailable as exc:
        raise DeadLetterError(f"The service is unreachable; nothing was changed there "
                              f"as far as the portal knows. ({exc})") from exc
