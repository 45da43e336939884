"""The portal's own record of the silences it created, and the reconcile step that
re-creates those Alertmanager lost.

Alertmanager keeps silences only in its data directory (and its cluster peers): a member
restarted without that directory, with no peer to gossip them back, forgets every
silence, and alerts people chose to silence page again. The ledger remembers each
portal-made silence until it ends or is expired from the portal; reconcile finds ledger
silences still due by time that no reachable Alertmanager lists and creates them again
(same matchers, window, creator and justification), recording the new id.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, DateTime, Index, String, Text, delete, or_, select
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, Session, mapped_column

from portal.auth import audit
from portal.db import Base, utcnow
from portal.integrations.alertmanager import (
    AlertmanagerUnavailable,
    Matcher,
    NewSilence,
    Silence,
)

RECREATED_NOTE = "re-created after Alertmanager lost it"
KEEP_ENDED = timedelta(days=30)  # ended silences stay this long for "what was silenced"


class LedgerSilence(Base):
    """A silence created through the portal, under its current Alertmanager id."""
    __tablename__ = "oncall_silence_ledger"
    __table_args__ = (Index("ix_oncall_silence_ledger_ends_at", "ends_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    silence_id: Mapped[str] = mapped_column(String(64), unique=True)
    matchers: Mapped[list] = mapped_column(JSONB)
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ends_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(320))
    comment: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # Set when the portal expired it: an intended end, never to be re-created.
    expired_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    recreated_from: Mapped[str | None] = mapped_column(String(64))
    recreated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    def matcher_tuple(self) -> tuple[Matcher, ...]:
        """The stored matchers as the client's Matcher values."""
        return tuple(Matcher(m["name"], m["value"], m.get("isRegex", False),
                             m.get("isEqual", True)) for m in self.matchers)


@dataclass(frozen=True)
class Recreated:
    lost_id: str
    silence_id: str
    matchers: tuple[Matcher, ...]


def record(*, session: Session, silence_id: str, matchers: tuple[Matcher, ...],
           starts_at: datetime, ends_at: datetime, created_by: str, comment: str) -> None:
    """Remember a silence the portal just created."""
    session.add(LedgerSilence(silence_id=silence_id, matchers=[m.to_api() for m in matchers],
                              starts_at=starts_at, ends_at=ends_at, created_by=created_by,
                              comment=comment.strip()))
    session.flush()


def _entry(session: Session, silence_id: str) -> LedgerSilence | None:
    return session.scalar(select(LedgerSilence).where(LedgerSilence.silence_id == silence_id))


def get(*, session: Session, silence_id: str) -> LedgerSilence | None:
    """The ledger entry of a portal silence by its current Alertmanager id."""
    return _entry(session, silence_id)


def extended(*, session: Session, old_id: str, new_id: str, ends_at: datetime) -> None:
    """Follow a portal silence that was extended (possibly under a successor id)."""
    entry = _entry(session, old_id)
    if entry is not None:
        entry.silence_id, entry.ends_at = new_id, ends_at
        session.flush()


def expired(*, session: Session, silence_id: str, now: datetime | None = None) -> None:
    """Mark a portal silence as ended on purpose, so reconcile leaves it alone."""
    entry = _entry(session, silence_id)
    if entry is not None:
        entry.expired_at = now or utcnow()
        session.flush()


def recreated_ids(*, session: Session, silence_ids: list[str]) -> set[str]:
    """Which of these silence ids the portal re-created after Alertmanager lost them."""
    if not silence_ids:
        return set()
    return set(session.scalars(select(LedgerSilence.silence_id).where(
        LedgerSilence.silence_id.in_(silence_ids), LedgerSilence.recreated_at.is_not(None))))


def changed_between(*, session: Session, since: datetime, until: datetime,
                    limit: int) -> list[LedgerSilence]:
    """Portal silences created, expired or re-created between `since` and `until`, newest
    first by creation."""
    # Each of those moments falls before the silence's end, so the ends_at index bounds
    # the scan to silences that had not ended when the window began.
    return list(session.scalars(select(LedgerSilence).where(
        LedgerSilence.ends_at >= since, LedgerSilence.created_at <= until, or_(
        LedgerSilence.created_at.between(since, until),
        LedgerSilence.expired_at.between(since, until),
        LedgerSilence.recreated_at.between(since, until)))
        .order_by(LedgerSilence.created_at.desc()).limit(limit)))


def reconcile(*, session: Session, client, listed: list[Silence],
              now: datetime | None = None) -> list[Recreated]:
    """Re-create every ledger silence still due that `listed` (what Alertmanager holds)
    lacks; each is audited. `client` creates them (the first cluster member answering);
    when no member answers, it stops and returns those already re-created."""
    now = now or utcnow()
    known = {s.id for s in listed}
    due = session.scalars(select(LedgerSilence).where(
        LedgerSilence.ends_at > now, LedgerSilence.expired_at.is_(None))
        .order_by(LedgerSilence.id).with_for_update(skip_locked=True)).all()
    done = []
    for entry in due:
        if entry.silence_id in known:
            continue
        matchers = entry.matcher_tuple()
        try:
            new_id = client.create_silence(NewSilence(
                matchers, max(entry.starts_at, now), entry.ends_at, entry.created_by,
                entry.comment))
        except AlertmanagerUnavailable:
            # Keep what was re-created so far (the caller commits it); the rest next time.
            break
        lost_id = entry.silence_id
        entry.silence_id, entry.recreated_from, entry.recreated_at = new_id, lost_id, now
        audit.record(session=session, action="oncall.silence_recreate",
                     target_type="silence", target_id=new_id,
                     details={"lost_id": lost_id, "reason": RECREATED_NOTE,
                              "created_by": entry.created_by,
                              "matchers": [m.as_filter() for m in matchers],
                              "ends_at": entry.ends_at.isoformat()})
        done.append(Recreated(lost_id, new_id, matchers))
    session.flush()
    return done


def prune(*, session: Session, now: datetime | None = None) -> int:
    """Forget silences that ended more than KEEP_ENDED ago; how many rows went."""
    cutoff = (now or utcnow()) - KEEP_ENDED
    # A DML statement executes to a CursorResult, which Session.execute's typing leaves out.
    return cast("CursorResult[Any]", session.execute(
        delete(LedgerSilence).where(LedgerSilence.ends_at < cutoff))).rowcount
