"""An incident's timeline: automatic entries, Markdown notes, pins, and offset reads.

Watchers poll with `after_id`. For that to never skip an entry, ids must grow in commit
order per incident: every writer first locks the incident row (`FOR UPDATE`), then takes
its id from the sequence, and holds the lock until its transaction commits. Without the
lock, a slow transaction could commit id 10 after a watcher already moved past id 11.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.incidents.markup import first_line, render_markdown
from portal.incidents.models import ENTRY_KINDS, Incident, TimelineEntry

MAX_NOTE_CHARS = 10_000
FIRST_RENDER_LIMIT = 300
POLL_LIMIT = 500


class NoteRejected(ValueError):
    """A note that cannot be stored; the message says why, in the user's words."""


@dataclass(frozen=True)
class Poll:
    """What is new after an offset: matching entries and the offset to ask from next."""
    entries: list[TimelineEntry]
    next_after_id: int


def lock_incident(*, session: Session, incident_id: int) -> None:
    """Take the incident's row lock so timeline ids follow commit order (see module doc)."""
    found = session.execute(select(Incident.id).where(Incident.id == incident_id)
                            .with_for_update()).first()
    if found is None:
        raise LookupError(f"incident {incident_id} does not exist")


def add_entry(*, session: Session, incident_id: int, kind: str, summary: str,
              actor_email: str | None = None, details: dict | None = None,
              at: datetime | None = None, body_md: str | None = None,
              body_html: str | None = None, pinned: bool = False) -> TimelineEntry:
    """Append one entry to an incident's timeline."""
    if kind not in ENTRY_KINDS:
        raise ValueError(f"unknown timeline kind {kind!r}")
    lock_incident(session=session, incident_id=incident_id)
    entry = TimelineEntry(incident_id=incident_id, kind=kind, summary=summary[:2000],
                          actor_email=actor_email, details=details or {}, body_md=body_md,
                          body_html=body_html, pinned=pinned)
    if at is not None:
        entry.at = at
    session.add(entry)
    session.flush()
    return entry


def add_note(*, session: Session, incident_id: int, body: str, actor_email: str,
             max_chars: int = MAX_NOTE_CHARS) -> TimelineEntry:
    """Append a Markdown note (sanitized) written by `actor_email`."""
    text = (body or "").replace("\r\n", "\n").strip()
    if not text:
        raise NoteRejected("Write something before adding the note.")
    if len(text) > max_chars:
        raise NoteRejected(f"A note has at most {max_chars:,} characters; this one has "
                           f"{len(text):,}. Split it, or link to a document.")
    return add_entry(session=session, incident_id=incident_id, kind="note",
                     summary=first_line(text), actor_email=actor_email, body_md=text,
                     body_html=render_markdown(text))


def _base(incident_id: int, kind: str | None):
    stmt = select(TimelineEntry).where(TimelineEntry.incident_id == incident_id)
    if kind:
        stmt = stmt.where(TimelineEntry.kind == kind)
    return stmt


def window(*, session: Session, incident_id: int, kind: str | None = None,
           before_id: int | None = None, limit: int = FIRST_RENDER_LIMIT
           ) -> tuple[list[TimelineEntry], bool]:
    """The newest `limit` entries (before `before_id`), oldest first, and whether more exist."""
    stmt = _base(incident_id, kind)
    if before_id is not None:
        stmt = stmt.where(TimelineEntry.id < before_id)
    rows = list(session.scalars(stmt.order_by(TimelineEntry.id.desc()).limit(limit + 1)))
    return list(reversed(rows[:limit])), len(rows) > limit


@dataclass(frozen=True)
class FirstRender:
    """What the incident page shows of its timeline: `window`'s entries and flag, the
    newest id of any kind (`latest_id`) and the pinned entries (`pinned`)."""
    entries: list[TimelineEntry]
    more: bool
    latest_id: int
    pins: list[TimelineEntry]


def first_render(*, session: Session, incident_id: int, kind: str | None = None,
                 limit: int = FIRST_RENDER_LIMIT) -> FirstRender:
    """`window`, `latest_id` and `pinned` of one incident in one statement: the newest
    `limit + 1` entries of the kind and every pinned entry, each row with the newest id."""
    newest = (_base(incident_id, kind).with_only_columns(TimelineEntry.id)
              .order_by(TimelineEntry.id.desc()).limit(limit + 1))
    latest = (select(func.coalesce(func.max(TimelineEntry.id), 0))
              .where(TimelineEntry.incident_id == incident_id).scalar_subquery())
    rows = session.execute(
        select(TimelineEntry, latest).where(
            TimelineEntry.incident_id == incident_id,
            TimelineEntry.id.in_(newest) | TimelineEntry.pinned)
        .order_by(TimelineEntry.id.desc())).all()
    if not rows:
        # Nothing of this kind and no pins; entries of other kinds may still exist.
        return FirstRender([], False, latest_id(session=session, incident_id=incident_id), [])
    found = [entry for entry, _ in rows]
    # Every entry of the kind among the newest limit + 1 is in `found`, so its first
    # matches of the kind are exactly `window`'s rows.
    matching = [e for e in found if kind is None or e.kind == kind][:limit + 1]
    return FirstRender(entries=list(reversed(matching[:limit])), more=len(matching) > limit,
                       latest_id=rows[0][1], pins=[e for e in reversed(found) if e.pinned])


def latest_id(*, session: Session, incident_id: int) -> int:
    """The id of the newest entry of any kind (0 when the timeline is empty)."""
    return session.execute(select(func.coalesce(func.max(TimelineEntry.id), 0))
                           .where(TimelineEntry.incident_id == incident_id)).scalar_one()


def poll(*, session: Session, incident_id: int, after_id: int, kind: str | None = None,
         limit: int = POLL_LIMIT) -> Poll:
    """Entries newer than `after_id`; costs the same however long the timeline is."""
    rows = list(session.scalars(
        _base(incident_id, None).where(TimelineEntry.id > after_id)
        .order_by(TimelineEntry.id).limit(limit)))
    next_after = rows[-1].id if rows else after_id
    return Poll([r for r in rows if kind is None or r.kind == kind], next_after)


def pinned(*, session: Session, incident_id: int) -> list[TimelineEntry]:
    """The pinned key events, oldest first."""
    return list(session.scalars(_base(incident_id, None).where(TimelineEntry.pinned)
                                .order_by(TimelineEntry.id)))


def parse_pin_ids(raw: str) -> set[int]:
    """The pinned entry ids a watcher's page shows, as its poller sends them ("3.17.42")."""
    if not raw:
        return set()
    parts = raw.split(".")
    if len(parts) > 500 or not all(p.isdigit() and len(p) < 12 for p in parts):
        raise ValueError("pins must be entry ids separated by dots")
    return {int(p) for p in parts}


def pin_changes(*, session: Session, incident_id: int, shown: set[int], after_id: int,
                kind: str | None) -> tuple[list[TimelineEntry], list[TimelineEntry] | None]:
    """The pinned entries now and, when they differ from what a watcher shows, the entries
    already on that page whose pin changed (None when nothing changed).

    Pins change on old entries, which an after_id poll never returns again: without this,
    another watcher's pin would appear only on reload.
    """
    pins = pinned(session=session, incident_id=incident_id)
    changed = {e.id for e in pins} ^ shown
    if not changed:
        return pins, None
    on_page = session.scalars(_base(incident_id, kind).where(
        TimelineEntry.id.in_(changed), TimelineEntry.id <= after_id)
        .order_by(TimelineEntry.id))
    return pins, list(on_page)


def get_entry(*, session: Session, incident_id: int, entry_id: int) -> TimelineEntry | None:
    """One entry of one incident."""
    return session.scalar(_base(incident_id, None).where(TimelineEntry.id == entry_id))


def set_pinned(*, session: Session, entry: TimelineEntry, pinned_: bool) -> TimelineEntry:
    """Pin or unpin an entry as a key event."""
    entry.pinned = pinned_
    session.flush()
    return entry


def all_entries(*, session: Session, incident_id: int) -> list[TimelineEntry]:
    """Every entry, oldest first (postmortem pre-fill and export)."""
    return list(session.scalars(_base(incident_id, None).order_by(TimelineEntry.id)))
