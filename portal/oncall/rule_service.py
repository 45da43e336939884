"""Reading and saving a person's notification rules, with the checks a form cannot make
alone (an E.164 phone number, a real time zone, a phone for SMS/voice rules)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import time
from functools import cache
from zoneinfo import ZoneInfo, available_timezones

import phonenumbers
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from portal.auth.models import User
from portal.oncall.rule_models import (
    MAX_DELAY_MINUTES,
    MAX_INTERVAL_MINUTES,
    MAX_REPEATS,
    RULE_CHANNELS,
    RULE_KINDS,
    NotificationProfile,
    NotificationRule,
)
from portal.oncall.rules import QuietHours, Rule

MAX_RULES = 10
PHONE_CHANNELS = ("sms", "voice")


class RulesError(ValueError):
    """Input that cannot be saved; `field` names the form field it belongs to."""

    def __init__(self, message: str, *, field: str = "") -> None:
        super().__init__(message)
        self.field = field


@dataclass
class Plan:
    """Everything needed to notify one person: profile values and both rule lists."""
    phone: str | None = None
    timezone: str = "UTC"
    quiet: QuietHours | None = None
    rules: dict[str, list[Rule]] = field(default_factory=lambda: {k: [] for k in RULE_KINDS})

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def rules_for(self, *, important: bool) -> tuple[list[Rule], bool]:
        """(rules, bypass quiet hours). Without important rules, an important page uses the
        default rules but still ignores quiet hours."""
        if important and self.rules["important"]:
            return self.rules["important"], True
        return self.rules["default"], important


@cache
def timezones() -> tuple[str, ...]:
    """The IANA zone names, sorted (the page offers them as suggestions)."""
    return tuple(sorted(available_timezones()))


def check_timezone(name: str) -> str:
    name = (name or "").strip()
    if name not in timezones():
        raise RulesError("Choose a time zone from the list, like Europe/Berlin.",
                         field="timezone")
    return name


def normalize_phone(raw: str | None) -> str | None:
    """The E.164 form of an international number ("+49 30 1234567" -> "+49301234567");
    None for an empty value. Raises RulesError for anything else."""
    raw = (raw or "").strip()
    if not raw:
        return None
    if len(raw) > 32 or not raw.startswith("+"):
        raise RulesError("Enter the number in international form, starting with + and the "
                         "country code (e.g. +49 30 1234567).", field="phone")
    try:
        number = phonenumbers.parse(raw, None)
    except phonenumbers.NumberParseException as exc:
        raise RulesError("This is not a phone number.", field="phone") from exc
    if not phonenumbers.is_valid_number(number):
        raise RulesError("This number does not exist in its country's numbering plan.",
                         field="phone")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def check_rules(kind: str, rules: list[Rule], *, phone: str | None) -> list[Rule]:
    """The rules of one list, or RulesError naming the first bad row."""
    if kind not in RULE_KINDS:
        raise RulesError(f"Unknown rule list {kind!r}.", field=kind)
    if len(rules) > MAX_RULES:
        raise RulesError(f"At most {MAX_RULES} rules per list.", field=kind)
    for n, rule in enumerate(rules, start=1):
        if rule.channel not in RULE_CHANNELS:
            raise RulesError(f"Row {n}: choose a channel.", field=kind)
        if rule.channel in PHONE_CHANNELS and not phone:
            what = "SMS" if rule.channel == "sms" else "A phone call"
            raise RulesError(f"Row {n}: {what} needs your phone number; enter it under "
                             "How to reach you.", field=kind)
        if not 0 <= rule.delay_minutes <= MAX_DELAY_MINUTES:
            raise RulesError(f"Row {n}: the delay is 0 to {MAX_DELAY_MINUTES} minutes.",
                             field=kind)
        if not 0 <= rule.repeat_count <= MAX_REPEATS:
            raise RulesError(f"Row {n}: repeat 0 to {MAX_REPEATS} times.", field=kind)
        if not 1 <= rule.repeat_interval_minutes <= MAX_INTERVAL_MINUTES:
            raise RulesError(f"Row {n}: repeat every 1 to {MAX_INTERVAL_MINUTES} minutes.",
                             field=kind)
    return rules


def get_profile(*, session: Session, user: User) -> NotificationProfile | None:
    return session.get(NotificationProfile, user.id)


def plan_for(*, session: Session, user: User) -> Plan:
    """The person's plan; an empty one (no rules) when they never saved any."""
    profile = get_profile(session=session, user=user)
    plan = Plan(timezone=user.timezone or "UTC")
    if profile is not None:
        plan.phone, plan.timezone = profile.phone, profile.timezone
        if profile.quiet_start is not None and profile.quiet_end is not None:
            plan.quiet = QuietHours(profile.quiet_start, profile.quiet_end)
    rows = session.scalars(select(NotificationRule).where(NotificationRule.user_id == user.id)
                           .order_by(NotificationRule.kind, NotificationRule.position))
    for row in rows:
        plan.rules[row.kind].append(Rule(row.channel, row.delay_minutes, row.repeat_count,
                                         row.repeat_interval_minutes))
    return plan


def save(*, session: Session, user: User, phone: str | None, timezone: str,
         quiet_start: time | None, quiet_end: time | None,
         rules: dict[str, list[Rule]]) -> Plan:
    """Replace the person's profile and rules after checking them; returns the new plan."""
    phone = normalize_phone(phone)
    timezone = check_timezone(timezone)
    if (quiet_start is None) != (quiet_end is None):
        raise RulesError("Give both the start and the end of quiet hours, or neither.",
                         field="quiet_end" if quiet_end is None else "quiet_start")
    if quiet_start is not None and quiet_start == quiet_end:
        raise RulesError("Quiet hours cannot start and end at the same time.",
                         field="quiet_end")
    checked = {kind: check_rules(kind, list(rules.get(kind, [])), phone=phone)
               for kind in RULE_KINDS}
    profile = get_profile(session=session, user=user) or NotificationProfile(user_id=user.id)
    profile.phone, profile.timezone = phone, timezone
    profile.quiet_start, profile.quiet_end = quiet_start, quiet_end
    session.add(profile)
    # One zone per person: every page shows this person's times in it too.
    user.timezone = timezone
    # Deleted before the new rows go in: the (user, kind, position) key is unique.
    session.execute(delete(NotificationRule).where(NotificationRule.user_id == user.id))
    for kind, items in checked.items():
        for position, rule in enumerate(items, start=1):
            session.add(NotificationRule(
                user_id=user.id, kind=kind, position=position, channel=rule.channel,
                delay_minutes=rule.delay_minutes, repeat_count=rule.repeat_count,
                repeat_interval_minutes=rule.repeat_interval_minutes))
    session.flush()
    return plan_for(session=session, user=user)
