"""iCalendar feeds of on-call shifts: one per schedule and one per person.

Calendar apps re-fetch a subscribed feed and match events by UID, so every event is one
shift (or the override or gap inside it) and its UID, times and DTSTAMP depend only on the
schedule and its overrides, never on when the feed was fetched. Times carry the schedule's
TZID with a VTIMEZONE, so a 10:00 hand-off shows at 10:00 on both sides of a DST change.
"""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.auth.models import User
from portal.db import utcnow
from portal.oncall import rotation, service
from portal.oncall.models import LAYERS, Override, Schedule
from portal.oncall.rotation import Shift

HORIZON = timedelta(weeks=12)
LOOKBACK = timedelta(weeks=2)
UID_DOMAIN = "oncall.meridian.example"


def _calendar(name: str) -> Calendar:
    cal = Calendar()
    cal.add("prodid", "-//Meridian Platform Portal//On-call//EN")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", name)
    return cal


def window(schedule: Schedule, now: datetime) -> tuple[datetime, datetime] | None:
    """The feed's period, widened to whole shifts so no event is cut by the fetch time."""
    rot = service.rotation_of(schedule, "primary")
    last = rotation.shift_number(rot, now + HORIZON)
    if last is None:
        return None
    first = rotation.shift_number(rot, now - LOOKBACK) or 0
    return rotation.handoff_at(rot, first), rotation.handoff_at(rot, last + 1)


def shift_uid(schedule: Schedule, layer: str, starts_at: datetime) -> str:
    """The event UID of the shift of `layer` starting at `starts_at` (stable across fetches)."""
    return (f"oncall-{schedule.id}-{layer}-"
            f"{starts_at.astimezone(UTC):%Y%m%dT%H%M%SZ}@{UID_DOMAIN}")


def _recorded_at(schedule: Schedule, shift: Shift, overrides: list[Override]) -> datetime:
    """When the information behind a shift was recorded: its override's or the schedule's."""
    if shift.source == "override":
        # The newest matching override wins, as in the timeline itself.
        for override in reversed(overrides):
            if override.starts_at <= shift.starts_at and shift.ends_at <= override.ends_at:
                return override.created_at
    return schedule.created_at


def _event(schedule: Schedule, layer: str, shift: Shift, recorded_at: datetime) -> Event:
    zone = ZoneInfo(schedule.timezone)
    event = Event()
    who = shift.who.name if shift.who else "nobody (gap)"
    event.add("uid", shift_uid(schedule, layer, shift.starts_at))
    event.add("summary", f"On call ({layer}) {schedule.name}: {who}")
    event.add("dtstart", shift.starts_at.astimezone(zone))
    event.add("dtend", shift.ends_at.astimezone(zone))
    event.add("dtstamp", recorded_at.astimezone(UTC))
    event.add("description", f"{layer.capitalize()} on-call for {schedule.name}"
                             f"{' (override)' if shift.source == 'override' else ''}.")
    return event


def _layer_events(session: Session, schedule: Schedule, layer: str,
                  now: datetime) -> list[tuple[Shift, Event]]:
    period = window(schedule, now)
    if period is None:
        return []
    start, end = period
    overrides = list(session.scalars(
        select(Override).where(Override.schedule_id == schedule.id, Override.layer == layer,
                               Override.ends_at > start, Override.starts_at < end)
        .order_by(Override.id)))
    covers = [rotation.Cover(o.user, o.starts_at, o.ends_at) for o in overrides]
    pieces = service.shift_pieces(session=session, schedule=schedule, layer=layer,
                                  covers=covers, start=start, end=end)
    return [(piece, _event(schedule, layer, piece, _recorded_at(schedule, piece, overrides)))
            for piece in pieces]


def schedule_feed(*, session: Session, schedule: Schedule, now: datetime | None = None) -> bytes:
    """Every shift of both layers of a schedule, two weeks back to twelve ahead."""
    now = now or utcnow()
    cal = _calendar(f"On call: {schedule.name}")
    for layer in LAYERS:
        for _, event in _layer_events(session, schedule, layer, now):
            cal.add_component(event)
    cal.add_missing_timezones()
    return cal.to_ical()


def person_feed(*, session: Session, user: User, now: datetime | None = None) -> bytes:
    """The shifts of one person across every schedule."""
    now = now or utcnow()
    cal = _calendar(f"On call: {user.name}")
    for schedule in service.list_schedules(session=session):
        for layer in LAYERS:
            for shift, event in _layer_events(session, schedule, layer, now):
                if shift.who is not None and shift.who.id == user.id:
                    cal.add_component(event)
    cal.add_missing_timezones()
    return cal.to_ical()
