"""The audit log: who did what, when, to which target, from where."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, Integer, Row, bindparam, delete, func, select
from sqlalchemy.orm import Session

from portal.auth.models import AuditEntry, User
from portal.db import utcnow


@dataclass(frozen=True)
class Origin:
    """Where an action came from: the request's client IP and id (None for tasks)."""
    ip: str | None = None
    request_id: str | None = None


@dataclass(frozen=True)
class AuditFilter:
    actor: str | None = None
    action: str | None = None
    target: str | None = None
    ip: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    outcome: str | None = None


def record(*, session: Session, action: str, actor: User | None = None,
           actor_email: str | None = None, target_type: str | None = None,
           target_id: object = None, tenant_id: int | None = None, outcome: str = "success",
           details: dict | None = None, origin: Origin = Origin()) -> AuditEntry:
    """Append one entry to the audit log (in the caller's transaction)."""
    entry = AuditEntry(
        action=action, actor_id=actor.id if actor else None,
        actor_email=actor.email if actor else actor_email,
        target_type=target_type, target_id=None if target_id is None else str(target_id),
        tenant_id=tenant_id, outcome=outcome, details=details or {},
        ip=origin.ip, request_id=origin.request_id)
    session.add(entry)
    session.flush()
    return entry


def _filtered(stmt, flt: AuditFilter):
    if flt.actor:
        stmt = stmt.where(AuditEntry.actor_email.ilike(f"%{flt.actor}%"))
    if flt.action:
        stmt = stmt.where(AuditEntry.action.startswith(flt.action))
    if flt.target:
        stmt = stmt.where((AuditEntry.target_id == flt.target) |
                          (AuditEntry.target_type == flt.target))
    if flt.ip:
        stmt = stmt.where(func.host(AuditEntry.ip) == flt.ip)
    if flt.outcome:
        stmt = stmt.where(AuditEntry.outcome == flt.outcome)
    if flt.since:
        stmt = stmt.where(AuditEntry.at >= flt.since)
    if flt.until:
        stmt = stmt.where(AuditEntry.at < flt.until)
    return stmt


# What the audit tables show of an entry (templates/admin/_audit_rows.html), and its id for
# the next page: read as plain rows, not entities, since the pages only read them.
SHOWN = (AuditEntry.id, AuditEntry.at, AuditEntry.actor_email, AuditEntry.action,
         AuditEntry.details, AuditEntry.target_type, AuditEntry.target_id, AuditEntry.outcome,
         AuditEntry.ip)


def search(*, session: Session, flt: AuditFilter, before_id: int | None = None,
           limit: int = 50) -> list[Row]:
    """Newest-first audit entries matching `flt`, keyset-paginated by id (the `SHOWN`
    columns)."""
    stmt = _filtered(select(*SHOWN), flt)
    if before_id is not None:
        stmt = stmt.where(AuditEntry.id < before_id)
    return list(session.execute(stmt.order_by(AuditEntry.id.desc()).limit(limit)))


@dataclass(frozen=True)
class RecentEntry:
    """An entry as `search` reads it (the columns of SHOWN), from a JSON object of them."""
    id: int
    at: datetime
    actor_email: str | None
    action: str
    details: dict | None
    target_type: str | None
    target_id: str | None
    outcome: str
    ip: str | None

    @classmethod
    def from_json(cls, e: dict) -> RecentEntry:
        return cls(e["id"], datetime.fromisoformat(e["at"]), e["actor_email"], e["action"],
                   e["details"], e["target_type"], e["target_id"], e["outcome"], e["ip"])


# `search` with no filter, built once: the home page asks it on every view.
_RECENT = select(*SHOWN).order_by(AuditEntry.id.desc()).limit(bindparam("limit", type_=Integer))


def recent(*, session: Session, limit: int = 10) -> list[Row]:
    """The latest audit entries, for the admin home page (as `search` with no filter)."""
    return list(session.execute(_RECENT, {"limit": limit}))


def purge_older_than(*, session: Session, days: int, now: datetime | None = None) -> int:
    """Delete entries older than the retention period; returns how many went."""
    cutoff = (now or utcnow()) - timedelta(days=days)
    # A DML statement executes to a CursorResult, which Session.execute's typing leaves out.
    result = cast("CursorResult[Any]",
                  session.execute(delete(AuditEntry).where(AuditEntry.at < cutoff)))
    return result.rowcount
