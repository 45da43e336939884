"""SLO specs and overrides, and the SLOs' evaluated statuses, cached per exact
database version for the read-only pages (SLO overview, the service page's panel, home).

Evaluating every SLO costs tens of milliseconds of Python (window sums, exclusion spans,
exact fractions) while its inputs change a few times a minute at most and a status is
only ever computed for a whole minute. Each request asks the database for the version of
everything an evaluation reads in one cheap statement, and reuses the specs loaded and the
statuses computed for that version and minute, so every process stays exact without any
invalidation message.

The cached ORM objects are detached and shared by concurrent requests: callers read them and
never change them or add them to a session.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field, replace
from datetime import datetime

from cachetools import LRUCache
from flask import has_request_context, request
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from portal import request_memo
from portal.catalog import service as catalog
from portal.catalog.models import Service, Team
from portal.db import rows_version_sql, utcnow
from portal.slo import samples
from portal.slo import service as slo_service
from portal.slo.models import PolicyOverride, Slo
from portal.slo.service import SloStatus

# Two versions (see db.rows_version_sql). The first covers what the specs are loaded from;
# the second the samples: every write of samples (portal.slo.samples.record, the demo) also
# writes the day rollup of each minute it stores, and removing an SLO removes its rollups,
# so the small day table stands for all three sample tables.
_SPEC_TABLES = ("slo_specs", "slo_exclusions", "slo_policy_overrides", "services", "teams")
_VERSION = text("SELECT " + rows_version_sql(*_SPEC_TABLES) + ", "
                + rows_version_sql("slo_sample_days"))


@dataclass
class Snapshot:
    """The specs of one version: SLOs by service name then SLO name (as
    `specs.list_slos`), each with its service and team loaded."""
    slos: list[Slo]
    overrides: dict[int, list[PolicyOverride]]   # not revoked, per service id
    teams: list[Team]
    services: list[Service]                       # kind "service", as catalog lists them
    statuses: LRUCache = field(default_factory=lambda: LRUCache(maxsize=4))
    lock: threading.Lock = field(default_factory=threading.Lock)

_cache: LRUCache = LRUCache(maxsize=8)  # a few versions: old ones age out
_cache_lock = threading.Lock()


@dataclass(frozen=True)
class Current:
    """The snapshot in force and the samples' version, read in one statement."""
    snapshot: Snapshot
    samples_version: str


def current(*, session: Session) -> Current:
    """The specs snapshot of the database's version now (loaded if not cached yet)."""
    spec_version, samples_version = session.execute(_VERSION).one()
    key = (str(session.get_bind().engine.url), spec_version)
    with _cache_lock:
        found = _cache.get(key)
    if found is None:
        found = _load(session)
        with _cache_lock:
            found = _cache.setdefault(key, found)
    return Current(found, samples_version)


def for_request(*, session: Session) -> Current | None:
    """`current` read once per page request and shared by its panels (the service page's
    SLO panel and its readiness facts ask for it both); None outside a GET or HEAD request,
    whose callers read what they need themselves. A request that writes could change the
    SLOs after its first read, so only the reading methods keep the answer."""
    if not has_request_context() or request.method not in ("GET", "HEAD"):
        return None
    known = request_memo.memo("slo.status_cache")
    if session not in known:
        known[session] = current(session=session)
    return known[session]


def _load(session: Session) -> Snapshot:
    # A session of its own on the same connection and transaction: what it loads is
    # detached when it closes, and the request's own objects stay untouched.
    with Session(bind=session.connection()) as side:
        slos = list(side.scalars(select(Slo).join(Slo.service).order_by(Service.name,
                                                                         Slo.name)))
        overrides: dict[int, list[PolicyOverride]] = {}
        for override in side.scalars(select(PolicyOverride)
                                     .where(PolicyOverride.revoked_at.is_(None))
                                     .order_by(PolicyOverride.expires_at.desc())):
            overrides.setdefault(override.service_id, []).append(override)
        return Snapshot(slos=slos, overrides=overrides,
                        teams=catalog.list_teams(session=side),
                        services=catalog.list_services(session=side, kind="service"))


def slos(current: Current, *, team: str | None = None, service: str | None = None) -> list[Slo]:
    """The snapshot's SLOs, optionally of one team or service slug (as `specs.list_slos`)."""
    return [s for s in current.snapshot.slos
            if (team is None or s.service.team.slug == team)
            and (service is None or s.service.slug == service)]


def active_override(current: Current, *, service_id: int,
                    now: datetime | None = None) -> PolicyOverride | None:
    """The override in force for a service (as `service.active_override`)."""
    now = now or utcnow()
    return next((o for o in current.snapshot.overrides.get(service_id, [])
                 if o.starts_at <= now < o.expires_at), None)


def evaluate(*, session: Session, current: Current, slos: list[Slo],
             now: datetime | None = None) -> list[SloStatus]:
    """`service.evaluate` of the snapshot's SLOs, computed once per version and minute."""
    minute = samples.floor_minute(now or utcnow())
    snapshot = current.snapshot
    key = (current.samples_version, minute)
    with snapshot.lock:
        known: dict[int, SloStatus] = snapshot.statuses.get(key) or {}
    missing = [s for s in slos if s.id not in known]
    if missing:
        fresh = slo_service.evaluate(session=session, slos=missing, now=minute)
        with snapshot.lock:
            known = {**snapshot.statuses.get(key, {}), **{st.slo.id: st for st in fresh}}
            snapshot.statuses[key] = known
    return [known[s.id] if known[s.id].slo is s else replace(known[s.id], slo=s) for s in slos]

