"""Demo on-call data: a weekly Monday 10:00 rotation per team, several staff taking turns
on each layer (never the same person on both at once), the escalation ladders of the four
severities, one named chain with the route that feeds it, and the on-call engineer's own
notification rules."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from portal.auth import service as accounts
from portal.catalog import service as catalog
from portal.db import utcnow
from portal.oncall import escalation, rule_service, service
from portal.oncall.models import LayerMember, Schedule
from portal.oncall.rules import Rule

TIMEZONE = "America/New_York"  # us-east-1 is Meridian's primary region
HANDOFF = time(10, 0)  # Monday
# Week n has PRIMARY[n % 3] and SECONDARY[n % 3] on call: nobody holds both layers at once.
PRIMARY = ["oncall@meridian.example", "dev@meridian.example", "manager@meridian.example"]
SECONDARY = ["admin@meridian.example", "manager@meridian.example", "oncall@meridian.example"]
DEFAULT_TEAM = "platform"

MANAGER, VP = "manager@meridian.example", "admin@meridian.example"
# severity: description, ack minutes, next business day, steps. A step is a dict of
# `escalation.StepSpec` fields, with e-mails for people ("user", "users").
POLICIES: dict[str, tuple[str, int, bool, list[dict[str, Any]]]] = {
    "sev1": ("Service down, data loss risk", 5, False, [
        {"kind": "page", "target": "primary", "important": True, "label": "Primary on-call"},
        {"kind": "wait", "minutes": 5},
        {"kind": "page", "target": "secondary", "important": True,
         "label": "Secondary on-call"},
        {"kind": "wait", "minutes": 10},
        {"kind": "notify_schedule", "important": True, "label": "Everyone on call"},
        {"kind": "wait", "minutes": 15},
        {"kind": "notify_users", "users": [MANAGER, VP], "important": True,
         "label": "Engineering Manager and VP Engineering"},
        {"kind": "wait", "minutes": 15},
        {"kind": "repeat", "count": 2}]),
    "sev2": ("Degraded performance, partial outage", 15, False, [
        {"kind": "page", "target": "primary", "label": "Primary on-call"},
        {"kind": "wait", "minutes": 15},
        {"kind": "page", "target": "secondary", "label": "Secondary on-call"},
        {"kind": "wait", "minutes": 15},
        {"kind": "notify_users", "users": [MANAGER], "label": "Team lead"},
        {"kind": "wait", "minutes": 30},
        {"kind": "repeat", "count": 1}]),
    "sev3": ("Non-critical issue, workaround exists; ticket, next business day", 60, False, [
        {"kind": "page", "target": "primary", "label": "Primary on-call"}]),
    "sev4": ("Cosmetic, informational; reviewed in morning triage", 24 * 60, True, [
        {"kind": "page", "target": "primary", "label": "Primary on-call"}]),
}
# A named chain and the route that sends the data team's database alerts to it: one
# replica lag alert is noise, three within ten minutes wake everyone on call.
CHAIN: tuple[str, str, list[dict[str, Any]]] = (
    "Database alert storm", "Page only when several database alerts fire together", [
    {"kind": "notify_if_count", "count": 3, "minutes": 10},
    {"kind": "notify_schedule", "important": True, "label": "Everyone on call"},
    {"kind": "wait", "minutes": 10},
    {"kind": "notify_users", "users": [MANAGER], "label": "Engineering Manager"}])
ROUTE = '{team="data", alertname=~"(Postgres|DB).*"}'
# The on-call engineer's own notification rules, so "My notification rules" opens on a
# worked example: e-mail at once; for important pages an SMS two minutes later as well;
# quiet from 22:00 to 07:00 on their clock (the rota's zone; important pages still ring).
RULES_FOR = "oncall@meridian.example"
RULES_PHONE = "+1 212 555 0142"  # 555-01xx numbers are reserved for fiction
QUIET_HOURS = (time(22, 0), time(7, 0))
RULES = {"default": [Rule("email")], "important": [Rule("email"), Rule("sms", 2)]}


def step_specs(steps: list[dict], users: dict) -> list[escalation.StepSpec]:
    """The demo's step dicts as specs, with e-mails replaced by the seeded people."""
    specs = []
    for step in steps:
        fields = dict(step)
        fields["users"] = tuple(users[e] for e in fields.get("users", ()) if users.get(e))
        if fields["kind"] == "notify_users" and not fields["users"]:
            continue  # the named people were not seeded
        if "user" in fields:
            fields["user"] = users.get(fields["user"])
        specs.append(escalation.StepSpec(**fields))
    return specs


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
    people = {email: accounts.get_by_email(session=session, email=email)
              for email in (MANAGER, VP)}
    for severity, (description, ack, next_day, steps) in POLICIES.items():
        if service.get_policy(session=session, severity=severity) is not None:
            continue
        escalation.set_policy_steps(session=session, severity=severity,
                                    description=description, ack_minutes=ack,
                                    next_business_day=next_day,
                                    steps=step_specs(steps, people))
    name, description, steps = CHAIN
    if escalation.chain_named(session=session, name=name) is None and people[MANAGER]:
        chain = escalation.set_chain(session=session, chain=None, name=name,
                                     description=description,
                                     steps=step_specs(steps, people))
        escalation.add_route(session=session, matcher=ROUTE, chain=chain,
                             name="Data team database alerts")
    person = accounts.get_by_email(session=session, email=RULES_FOR)
    if person is not None and rule_service.get_profile(session=session, user=person) is None:
        rule_service.save(session=session, user=person, phone=RULES_PHONE, timezone=TIMEZONE,
                          quiet_start=QUIET_HOURS[0], quiet_end=QUIET_HOURS[1], rules=RULES)
