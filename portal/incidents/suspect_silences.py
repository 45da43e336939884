"""Undo a suspect silence change from the incident page: a silence created (or re-created)
in the window is expired, one expired in the window is created again with the same
matchers until its original end. Both go through the on-call silences service, which
talks to Alertmanager, and keep the portal's silence ledger in step; the reason lands on
the incident timeline.
"""
from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy.orm import Session

from portal.auth.models import User
from portal.catalog import service as catalog
from portal.db import utcnow
from portal.incidents import suspects, timeline
from portal.incidents.models import Incident
from portal.incidents.suspect_rollback import RollbackRefused, clean_reason
from portal.integrations.alertmanager import (
    AlertmanagerRejected,
    AlertmanagerUnavailable,
    Matcher,
)
from portal.oncall import silence_ledger, silences
from portal.oncall.silence_ledger import LedgerSilence

UNDOERS = ("oncall", "manager")  # who may change silences (admins pass every check)
ACTIONS = ("expire", "recreate")
SILENCE_ID = re.compile(r"[0-9A-Za-z-]{1,64}")


def _suspect_silence(*, session: Session, incident: Incident, silence_id: str
                     ) -> LedgerSilence:
    entry = silence_ledger.get(session=session, silence_id=silence_id) \
        if SILENCE_ID.fullmatch(silence_id) else None
    if entry is None:
        raise RollbackRefused("That is not a silence the portal made.", status=404)
    reach = {r.slug: r for r in catalog.dependency_subgraph(
        session=session, slugs={s.slug for s in incident.services})}
    if suspects.closest_hit(entry.matcher_tuple(), reach) is None:
        raise RollbackRefused("That silence does not select alerts of this incident's "
                              "services or their dependencies.", status=404)
    return entry


def undo(*, session: Session, client, incident: Incident, silence_id: str, action: str,
         reason: str, actor: User, max_hours: int, now: datetime | None = None) -> str:
    """Expire or re-create a suspect silence as `actor`; returns the silence id now in
    effect (the new one after a re-creation). `client` is the Alertmanager (None when
    alerting is not connected)."""
    reason = clean_reason(reason)
    if action not in ACTIONS:
        raise RollbackRefused("Unknown silence action.", status=404)
    entry = _suspect_silence(session=session, incident=incident, silence_id=silence_id)
    if client is None:
        raise RollbackRefused("Alerting is not connected: silences live in Alertmanager, so "
                              "none can be changed here.")
    now = now or utcnow()
    shown = ", ".join(m.as_filter() for m in entry.matcher_tuple())
    try:
        if action == "expire":
            done = _expire(session=session, client=client, entry=entry, actor=actor, now=now)
        else:
            done = _recreate(session=session, client=client, entry=entry, actor=actor,
                             incident=incident, reason=reason, max_hours=max_hours, now=now)
    except (silences.SilenceError, AlertmanagerRejected) as exc:
        raise RollbackRefused(str(exc)) from exc
    except AlertmanagerUnavailable as exc:
        raise RollbackRefused(f"Alertmanager is unreachable; the silence is unchanged. "
                              f"({exc})", status=503) from exc
    verb = "expired" if action == "expire" else "re-created until its original end"
    timeline.add_entry(
        session=session, incident_id=incident.id, kind="silence", actor_email=actor.email,
        summary=f"{actor.name} {verb} silence {silence_id[:8]} ({shown}): {reason}",
        details={"silence_id": done, "undoes": silence_id, "action": action,
                 "reason": reason})
    return done


def _expire(*, session: Session, client, entry: LedgerSilence, actor: User,
            now: datetime) -> str:
    if entry.expired_at is not None or entry.ends_at <= now:
        raise RollbackRefused("This silence is already over; there is nothing to expire.")
    silences.expire(session=session, client=client, silence_id=entry.silence_id,
                    actor_email=actor.email)
    silence_ledger.expired(session=session, silence_id=entry.silence_id, now=now)
    return entry.silence_id


def _recreate(*, session: Session, client, entry: LedgerSilence, actor: User,
              incident: Incident, reason: str, max_hours: int, now: datetime) -> str:
    if entry.expired_at is None:
        raise RollbackRefused("This silence was not expired early; there is nothing to "
                              "re-create.")
    if entry.ends_at <= now:
        raise RollbackRefused("This silence's original end has passed; create a new one "
                              "from the silences page if it is still needed.")
    matchers = entry.matcher_tuple()
    if _active_twin(client, matchers):
        raise RollbackRefused("An active silence with the same matchers already exists.")
    request = silences.SilenceRequest(
        matchers=matchers, starts_at=now, ends_at=entry.ends_at,
        comment=f"{entry.comment} (re-created for incident #{incident.id}: {reason})")
    new_id = silences.create(session=session, client=client, request=request,
                             actor_email=actor.email, max_hours=max_hours, now=now)
    silence_ledger.record(session=session, silence_id=new_id, matchers=matchers,
                          starts_at=request.starts_at, ends_at=request.ends_at,
                          created_by=actor.email, comment=request.comment)
    return new_id


def _active_twin(client, matchers: tuple[Matcher, ...]) -> bool:
    """Whether Alertmanager already holds a live silence with exactly these matchers."""
    wanted = sorted(m.to_api().items() for m in matchers)
    return any(s.state in ("active", "pending")
               and sorted(m.to_api().items() for m in s.matchers) == wanted
               for s in client.list_silences())
