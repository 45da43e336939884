"""Demo on-call data: a weekly Monday 10:00 rotation per team, several staff taking turns
on each layer (never the same person on both at once), and the escalation paths."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from portal.auth import service as accounts
from portal.catalog import service as catalog
from portal.db import utcnow
from portal.oncall import service
from portal.oncall.models import LayerMember, Schedule

TIMEZONE = "America/New_York"  # us-east-1 is Meridian's primary region
HANDOFF = time(10, 0)  # Monday
# Week n has PRIMARY[n % 3] and SECONDARY[n % 3] on call: nobody holds both layers at once.
PRIMARY = ["oncall@meridian.example", "dev@meridian.example", "manager@meridian.example"]
SECONDARY = ["admin@meridian.example", "manager@meridian.example", "oncall@meridian.example"]
DEFAULT_TEAM = "platform"

# severity: description, ack minutes, next business day, steps (minutes, target, email, label)
POLICIES = {
    "sev1": ("Service down, data loss risk", 5, False, [
        (0, "primary", None, "Primary on-call"), (15, "secondary", None, "Secondary on-call"),
        (30, "user", "manager@meridian.example", "Engineering Manager"),
        (60, "user", "admin@meridian.example", "VP Engineering")]),
    "sev2": ("Degraded performance, partial outage", 15, False, [
        (0, "primary", None, "Primary on-call"), (30, "secondary", None, "Secondary on-call"),
        (60, "user", "manager@meridian.example", "Team lead")]),
    "sev3": ("Non-critical issue, workaround exists; ticket, next business day", 60, False, [
        (0, "primary", None, "Primary on-call")]),
    "sev4": ("Cosmetic, informational; reviewed in morning triage", 24 * 60, True, [
        (0, "primary", None, "Primary on-call")]),
}


def rotation_start(now: datetime) -> date:
    """A Monday some whole rounds back, so the first primary is on call when the demo loads."""
    local = now.astimezone(ZoneInfo(TIMEZONE))
    monday = local.date() - timedelta(days=local.weekday())
    if local.weekday() == 0 and local.time() < HANDOFF:
        monday -= timedelta(weeks=1)  # this Monday's hand-off has not happened yet
    return monday - timedelta(weeks=4 * len(PRIMARY))


def seed(*, session: Session) -> None:
    """Schedules for every team and the four escalation policies, created once."""
    users = {email: accounts.get_by_email(session=session, email=email)
             for email in PRIMARY + SECONDARY}
    start = rotation_start(utcnow())
    for team in catalog.list_teams(session=session):
        if service.get_schedule(session=session, slug=team.slug) is not None:
            continue
        schedule = Schedule(slug=team.slug, name=f"{team.name} on-call", team_id=team.id,
                            timezone=TIMEZONE, handoff_weekday=0, handoff_time=HANDOFF,
                            rotation_start=start, is_default=team.slug == DEFAULT_TEAM)
        for layer, emails in (("primary", PRIMARY), ("secondary", SECONDARY)):
            for position, email in enumerate((e for e in emails if users[e]), start=1):
                schedule.members.append(LayerMember(layer=layer, position=position,
                                                    user=users[email]))
        session.add(schedule)
    session.flush()
    for severity, (description, ack, next_day, steps) in POLICIES.items():
        if service.get_policy(session=session, severity=severity) is not None:
            continue
        service.set_policy(session=session, severity=severity, description=description,
                           ack_minutes=ack, next_business_day=next_day,
                           steps=[(after, target, users.get(email) if email else None, label)
                                  for after, target, email, label in steps])
