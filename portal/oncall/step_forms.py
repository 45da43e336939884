"""The step rows of the policy and chain editors, read into `escalation.StepSpec`s (people,
teams and schedules looked up, everything else checked by `escalation.validate_steps`) and
filled from stored steps."""
from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.auth import service as accounts
from portal.catalog.models import Team
from portal.oncall import service
from portal.oncall.escalation import MAX_USERS, StepSpec
from portal.oncall.models import EscalationStep
from portal.oncall.service import OncallError
from portal.security import outbound

BLANK_ROWS = 3  # empty rows offered after the stored steps


def _person(session: Session, email: str, n: int):
    user = accounts.get_by_email(session=session, email=email.strip())
    if user is None or not user.is_active or not user.is_internal:
        raise OncallError(f"Step {n}: no active staff account for {email.strip() or '(empty)'}.")
    return user


def _internal_by_spelling(host: str) -> bool:
    """An IP literal or a localhost name: what it points to is known without DNS."""
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def webhook_url_of(raw: str | None, n: int) -> str | None:
    """The row's webhook URL. An address whose spelling alone makes it internal (a private
    or link-local IP such as 169.254.169.254, localhost) is refused now, naming the row,
    instead of failing at the first page; names are vetted at every call anyway
    (`portal.security.outbound`), since what they resolve to may change."""
    url = (raw or "").strip() or None
    try:
        host = (urlsplit(url).hostname or "") if url else ""
    except ValueError:
        return url  # escalation.check_webhook_url explains what is wrong with it
    if url and host and _internal_by_spelling(host):  # (a host comes from a url)
        try:
            outbound.vet(url, allowlist=tuple(current_app.config["OUTBOUND_ALLOWED_HOSTS"]
                                              or ()))
        except outbound.OutboundError as exc:
            raise OncallError(f"Step {n}: the webhook URL {exc}.") from exc
    return url


def spec_of(session: Session, f, n: int) -> StepSpec | None:
    """One editor row as a spec; None for an empty row."""
    kind = (f.kind.data or "").strip() or ("page" if f.target.data else "")
    if not kind:
        return None
    user, users, team, schedule = None, (), None, None
    if kind == "page" and f.target.data == "user":
        user = _person(session, f.user_email.data or "", n)
    if kind == "notify_users":
        emails = [e for e in (f.people.data or "").replace("\n", ",").split(",") if e.strip()]
        if len(emails) > MAX_USERS:
            raise OncallError(f"Step {n}: name at most {MAX_USERS} people.")
        users = tuple(_person(session, e, n) for e in emails)
    if kind == "notify_group":
        slug = (f.team.data or "").strip()
        team = session.scalar(select(Team).where(Team.slug == slug)) if slug else None
        if team is None:
            raise OncallError(f"Step {n}: no team {slug or '(empty)'!r}.")
    if kind == "notify_schedule" and (f.schedule.data or "").strip():
        schedule = service.get_schedule(session=session, slug=f.schedule.data.strip())
        if schedule is None:
            raise OncallError(f"Step {n}: no schedule {f.schedule.data.strip()!r}.")
    return StepSpec(kind=kind, target=f.target.data or None, user=user, users=users, team=team,
                    schedule=schedule, minutes=f.minutes.data or 0, count=f.count.data or 0,
                    after_minutes=f.after_minutes.data or 0, important=bool(f.important.data),
                    webhook_url=webhook_url_of(f.webhook_url.data, n) if kind == "webhook"
                    else (f.webhook_url.data or "").strip() or None,
                    label=(f.label.data or "").strip())


def specs_of(*, session: Session, form) -> list[StepSpec]:
    """The filled-in rows of `form.steps`, in order; raises OncallError naming the row."""
    found = [spec_of(session, entry.form, n)
             for n, entry in enumerate(form.steps.entries, start=1)]
    return [s for s in found if s is not None]


def fill(form, steps: list[EscalationStep]) -> None:
    """Show stored steps in the editor, followed by a few empty rows."""
    while len(form.steps.entries) < min(len(steps) + BLANK_ROWS, form.steps.max_entries):
        form.steps.append_entry()
    for entry, step in zip(form.steps.entries, steps):
        f = entry.form
        f.kind.data, f.after_minutes.data = step.kind, step.after_minutes
        f.target.data = step.target or ""
        f.user_email.data = step.user.email if step.user else ""
        f.label.data, f.minutes.data, f.count.data = step.label, step.minutes, step.count
        f.people.data = ", ".join(u.email for u in step.users)
        f.team.data = step.team.slug if step.team else ""
        f.schedule.data = step.schedule.slug if step.schedule else ""
        f.important.data, f.webhook_url.data = step.important, step.webhook_url or ""


def audit_steps(steps: list[EscalationStep]) -> list[dict]:
    """The steps as the audit log keeps them."""
    return [{"kind": s.kind, "after_minutes": s.after_minutes, "target": s.target,
             "user": s.user.email if s.user else None, "users": [u.email for u in s.users],
             "team": s.team.slug if s.team else None,
             "schedule": s.schedule.slug if s.schedule else None, "minutes": s.minutes,
             "count": s.count, "important": s.important, "webhook_url": s.webhook_url}
            for s in steps]
