"""SLO specs as data: validation, create/update/delete, listing, and storing new samples."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import delete as sql_delete
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.catalog.models import Service, Team
from portal.slo import samples, selectors
from portal.slo.models import SLI_KINDS, ScrapeCursor, Slo
from portal.slo.sources import SliSource

NAME_PATTERN = r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$"
FIELDS = ("name", "sli_kind", "objective", "window_days", "owner", "description",
          "good_query", "total_query", "latency_threshold_ms")


class SpecInvalid(ValueError):
    """A spec failed validation; `errors` maps field names to messages."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


@dataclass(frozen=True)
class SpecData:
    name: str
    sli_kind: str
    objective: Decimal
    window_days: int
    owner: str
    description: str
    good_query: str
    total_query: str
    latency_threshold_ms: int | None


def clean(raw: dict) -> SpecData:
    """Validate raw spec fields (form, OpenSLO or seed); raises SpecInvalid listing each."""
    errors: dict[str, str] = {}
    name = str(raw.get("name") or "").strip().lower()
    if not re.match(NAME_PATTERN, name):
        errors["name"] = "1-63 lowercase letters, digits or dashes"
    kind = str(raw.get("sli_kind") or "ratio")
    if kind not in SLI_KINDS:
        errors["sli_kind"] = f"one of {', '.join(SLI_KINDS)}"
    try:
        objective = Decimal(str(raw.get("objective"))).quantize(Decimal("0.0001"))
        if not Decimal(0) < objective < Decimal(100):
            raise InvalidOperation
    except (InvalidOperation, ValueError):
        errors["objective"] = "a percentage strictly between 0 and 100, e.g. 99.95"
        objective = Decimal(0)
    try:
        window = int(raw.get("window_days") or 30)
        if not 1 <= window <= 90:
            raise ValueError
    except (TypeError, ValueError):
        errors["window_days"] = "a whole number of days from 1 to 90"
        window = 0
    for field in ("good_query", "total_query"):
        try:
            selectors.parse(str(raw.get(field) or ""))
        except ValueError as exc:
            errors[field] = str(exc)
    threshold: Any = raw.get("latency_threshold_ms") or None
    if kind == "latency":
        try:
            threshold = int(threshold)
            if threshold <= 0:
                raise ValueError
        except (TypeError, ValueError):
            errors["latency_threshold_ms"] = "a latency SLI needs a positive threshold in ms"
    else:
        threshold = None
    if errors:
        raise SpecInvalid(errors)
    return SpecData(name=name, sli_kind=kind, objective=objective, window_days=window,
                    owner=str(raw.get("owner") or "").strip()[:120],
                    description=str(raw.get("description") or "").strip(),
                    good_query=str(raw["good_query"]).strip(),
                    total_query=str(raw["total_query"]).strip(),
                    latency_threshold_ms=threshold)


def _check_unique(session: Session, service: Service, name: str, slo_id: int | None) -> None:
    clash = session.scalar(select(Slo.id).where(Slo.service_id == service.id, Slo.name == name))
    if clash is not None and clash != slo_id:
        raise SpecInvalid({"name": f"{service.name} already has an SLO named {name}"})


def create(*, session: Session, service: Service, spec: SpecData) -> Slo:
    """Add an SLO to a service."""
    _check_unique(session, service, spec.name, None)
    slo = Slo(service_id=service.id, **{f: getattr(spec, f) for f in FIELDS})
    session.add(slo)
    session.flush()
    return slo


def update(*, session: Session, slo: Slo, spec: SpecData) -> Slo:
    """Change an SLO's spec (its samples stay)."""
    _check_unique(session, slo.service, spec.name, slo.id)
    if (slo.good_query, slo.total_query) != (spec.good_query, spec.total_query):
        # The scrape cursor holds readings of the old selectors; compared with the new
        # ones its series would look brand new and count their whole totals at once.
        session.execute(sql_delete(ScrapeCursor).where(ScrapeCursor.slo_id == slo.id))
    for field in FIELDS:
        setattr(slo, field, getattr(spec, field))
    session.flush()
    return slo


def upsert(*, session: Session, service: Service, spec: SpecData) -> Slo:
    """Create the SLO, or update the one of that name (imports and seeding)."""
    existing = session.scalar(select(Slo).where(Slo.service_id == service.id,
                                                Slo.name == spec.name))
    if existing is None:
        return create(session=session, service=service, spec=spec)
    return update(session=session, slo=existing, spec=spec)


def delete(*, session: Session, slo: Slo) -> None:
    """Remove an SLO and its samples."""
    session.delete(slo)
    session.flush()


def get(*, session: Session, slo_id: int) -> Slo | None:
    """One SLO by id."""
    return session.get(Slo, slo_id)


def list_slos(*, session: Session, team: str | None = None,
              service: str | None = None) -> list[Slo]:
    """SLOs by service name then SLO name, optionally for one team or service slug."""
    stmt = select(Slo).join(Slo.service).join(Service.team).order_by(Service.name, Slo.name)
    if team:
        stmt = stmt.where(Team.slug == team)
    if service:
        stmt = stmt.where(Service.slug == service)
    return list(session.scalars(stmt))


def collect(*, session: Session, source: SliSource, now: datetime) -> int:
    """Pull new samples for every SLO from `source` and store them; returns minutes stored."""
    slos = list_slos(session=session)
    stored = 0
    for slo_id, minutes in source.collect(session=session, slos=slos, now=now).items():
        last = samples.latest_minute(session=session, slo_id=slo_id)
        fresh = [m for m in minutes if last is None or m.minute > last]
        stored += samples.record(session=session, slo_id=slo_id, samples=fresh)
    return stored
