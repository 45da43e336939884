"""Silence hygiene Alertmanager does not offer: which active silences end soon, which match
no current alert, extending one, and e-mailing its creator once before it ends.

Matchers are evaluated with the same rules as the silence preview and create
(`portal.oncall.silences.matches`: regexes fully anchored, RE2 semantics, a missing label
read as the empty string), so a silence listed here as matching nothing is one
Alertmanager would not apply to any current alert either.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from portal import events
from portal.auth import service as auth
from portal.db import utcnow
from portal.integrations import smtp
from portal.integrations.alertmanager import (
    Alert,
    AlertmanagerApi,
    NewSilence,
    Silence,
)
from portal.oncall.models import SilenceExpiryNotice
from portal.oncall.silences import SilenceError, matches

EXPIRING_WINDOW = timedelta(hours=24)
# Alertmanager's silence ids are UUIDs; anything else cannot name one (and never reaches it).
SILENCE_ID = re.compile(r"[0-9a-fA-F-]{1,64}")
_HOURS = re.compile(r"[0-9]{1,6}", re.ASCII)  # ASCII only: int() also reads other scripts


@dataclass(frozen=True)
class Extension:
    old: Silence
    silence_id: str  # Alertmanager keeps the id when it can update in place, else a new one
    ends_at: datetime


def expiring_soon(*, silences: list[Silence], now: datetime,
                  within: timedelta = EXPIRING_WINDOW) -> list[Silence]:
    """Active silences ending within `within` of `now`, soonest first."""
    due = [s for s in silences if s.state == "active" and now < s.ends_at <= now + within]
    return sorted(due, key=lambda s: (s.ends_at, s.id))


def silences_alert(silence: Silence, alert: Alert) -> bool:
    """Whether every matcher of the silence holds for the alert's labels."""
    return all(matches(m, str(alert.labels.get(m.name, ""))) for m in silence.matchers)


def matching_nothing(*, silences: list[Silence], alerts: list[Alert]) -> list[Silence]:
    """Active silences that select none of the current alerts, soonest ending first.

    Invalid regexes (possible in silences made outside the portal) match nothing here,
    as they could never have silenced anything.
    """
    def idle(silence: Silence) -> bool:
        try:
            return not any(silences_alert(silence, a) for a in alerts)
        except SilenceError:
            return True

    return sorted((s for s in silences if s.state == "active" and idle(s)),
                  key=lambda s: (s.ends_at, s.id))


def parse_hours(raw: str | None, *, max_hours: int) -> int:
    """The extension in whole hours (1 to `max_hours`); raises SilenceError saying why not."""
    text = (raw or "").strip()
    if not _HOURS.fullmatch(text):
        raise SilenceError("Give the extension as a whole number of hours, e.g. 4.")
    hours = int(text)
    if not 1 <= hours <= max_hours:
        raise SilenceError(f"A silence may be extended by 1 to {max_hours} hours from now.")
    return hours


def extend(*, session: Session, client: AlertmanagerApi, silence_id: str, hours: int,
           actor_email: str, max_hours: int, now: datetime | None = None) -> Extension:
    """Make an active silence end `hours` from now (at most `max_hours`) as `actor_email`.

    The silence is posted again with its id, so Alertmanager updates it in place or, when
    it cannot, expires it and creates its successor; either way one silence remains.
    """
    now = now or utcnow()
    if not 1 <= hours <= max_hours:
        raise SilenceError(f"A silence may be extended by 1 to {max_hours} hours from now.")
    old = client.get_silence(silence_id)
    if old.state != "active":
        raise SilenceError(f"Only an active silence can be extended; this one is {old.state}.")
    ends_at = now + timedelta(hours=hours)
    if ends_at <= old.ends_at:
        raise SilenceError("The silence already lasts longer than that; choose more hours.")
    new_id = client.create_silence(NewSilence(old.matchers, old.starts_at, ends_at,
                                              actor_email, old.comment, {"id": old.id}))
    events.silence_changed.send(
        session=session, silence_id=new_id, action="extended", actor_email=actor_email,
        matchers=[m.to_api() for m in old.matchers], comment=old.comment)
    return Extension(old, new_id, ends_at)


def notice_due(*, silences: list[Silence], lead: timedelta, now: datetime) -> list[Silence]:
    """Active silences ending within the notice lead time, soonest first."""
    return expiring_soon(silences=silences, now=now, within=lead) if lead > timedelta(0) else []


def _notice_text(silence: Silence, link: str) -> tuple[str, str]:
    shown = " ".join(m.as_filter() for m in silence.matchers)
    ends = silence.ends_at.strftime("%Y-%m-%d %H:%M UTC")
    subject = f"Your silence {silence.id[:8]} ends at {ends}"
    body = (f"The silence you created ends at {ends}.\n\nMatchers: {shown}\n"
            f"Justification: {silence.comment}\n\nAlerts it holds back will notify again "
            f"when it ends. To extend it, open {link}\n")
    return subject, body


def claim_notices(*, session: Session, silences: list[Silence], lead: timedelta, link: str,
                  now: datetime | None = None) -> list[SilenceExpiryNotice]:
    """Claim a notice for each silence created in the portal that ends within `lead`.

    The claim is an INSERT ... ON CONFLICT DO NOTHING on (silence id, end time): of two
    workers claiming together only one gets the row back, so only one will send it.
    Silences whose creator is no active portal user (made with amtool, by automation)
    have nobody to tell and are skipped.
    """
    now = now or utcnow()
    claimed: list[SilenceExpiryNotice] = []
    for silence in notice_due(silences=silences, lead=lead, now=now):
        creator = auth.get_by_email(session=session, email=silence.created_by)
        if creator is None or not creator.is_active:
            continue
        subject, body = _notice_text(silence, link)
        notice_id = session.scalar(
            insert(SilenceExpiryNotice)
            .values(silence_id=silence.id, ends_at=silence.ends_at, recipient=creator.email,
                    status="pending", attempts=0, claimed_at=now,
                    payload={"to": creator.email, "subject": subject, "text": body})
            .on_conflict_do_nothing(constraint="uq_oncall_silence_expiry_notices_silence_end")
            .returning(SilenceExpiryNotice.id))
        if notice_id is not None:
            notice = session.get(SilenceExpiryNotice, notice_id)
            assert notice is not None  # inserted just above, in this transaction
            claimed.append(notice)
    session.flush()
    return claimed


def deliver_notices(*, session: Session, relay: smtp.Relay, max_attempts: int,
                    now: datetime | None = None, limit: int = 100) -> int:
    """E-mail the pending notices, each once; failures are kept and retried up to a bound.

    Rows are locked with SKIP LOCKED, so a second worker never sends a notice the first
    is sending; returns how many were tried.
    """
    now = now or utcnow()
    pending = list(session.scalars(
        select(SilenceExpiryNotice).where(SilenceExpiryNotice.status == "pending")
        .order_by(SilenceExpiryNotice.id).limit(limit).with_for_update(skip_locked=True)))
    for notice in pending:
        notice.attempts += 1
        try:
            smtp.send(smtp.message(relay=relay, to=notice.payload["to"],
                                   subject=notice.payload["subject"],
                                   body=notice.payload["text"]), relay=relay)
        except smtp.MailUnavailable as exc:
            notice.last_error = str(exc)[:500]
            if notice.attempts >= max_attempts:
                notice.status = "failed"
            continue
        notice.status, notice.sent_at, notice.last_error = "sent", now, None
    session.flush()
    return len(pending)
