"""iCalendar feeds of on-call shifts: one per schedule and one per person."""
from __future__ import annotations

from datetime import datetime, timedelta

from icalendar import Calendar, Event
from sqlalchemy.orm import Session

from portal.auth.models import User
from portal.db import utcnow
from portal.oncall import service
from portal.oncall.models import LAYERS, Schedule
from portal.oncall.rotation import Shift

HORIZON = timedelta(weeks=12)
LOOKBACK = timedelta(weeks=2)


def _calendar(name: str) -> Calendar:
    cal = Calendar()
    cal.add("prodid", "-//Meridian Platform Portal//On-call//EN")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", name)
    return cal


def _event(schedule: Schedule, layer: str, shift: Shift, stamp: datetime) -> Event:
    event = Event()
    who = shift.who.name if shift.who else "nobody (gap)"
    event.add("uid", f"{schedule.slug}-{layer}-{int(shift.starts_at.timestamp())}"
                     f"@oncall.meridian.example")
    event.add("summary", f"On call ({layer}) {schedule.name}: {who}")
    event.add("dtstart", shift.starts_at)
    event.add("dtend", shift.ends_at)
    event.add("dtstamp", stamp)
    event.add("description", f"{layer.capitalize()} on-call for {schedule.name}"
                             f"{' (override)' if shift.source == 'override' else ''}.")
    return event


def schedule_feed(*, session: Session, schedule: Schedule, now: datetime | None = None) -> bytes:
    """Every shift of both layers of a schedule, two weeks back to twelve ahead."""
    now = now or utcnow()
    cal = _calendar(f"On call: {schedule.name}")
    for layer in LAYERS:
        for shift in service.layer_timeline(session=session, schedule=schedule, layer=layer,
                                            start=now - LOOKBACK, end=now + HORIZON):
            cal.add_component(_event(schedule, layer, shift, now))
    return cal.to_ical()


def person_feed(*, session: Session, user: User, now: datetime | None = None) -> bytes:
    """The shifts of one person across every schedule."""
    now = now or utcnow()
    cal = _calendar(f"On call: {user.name}")
    for schedule in service.list_schedules(session=session):
        for layer in LAYERS:
            for shift in service.layer_timeline(session=session, schedule=schedule,
                                                layer=layer, start=now - LOOKBACK,
                                                end=now + HORIZON):
                if shift.who is not None and shift.who.id == user.id:
                    cal.add_component(_event(schedule, layer, shift, now))
    return cal.to_ical()
