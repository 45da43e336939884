"""On-call rows for tests of any folder: a schedule with ordered layer members."""
from __future__ import annotations

from datetime import date, time

from portal.oncall.models import LayerMember, Schedule


def schedule(session, primary, secondary=(), *, slug="sched", team=None, tz="Europe/Berlin",
             start=date(2026, 1, 5), default=False) -> Schedule:
    """A weekly schedule handing off Mondays at 10:00, its layers in the order given."""
    made = Schedule(slug=slug, name=f"{slug} on-call", timezone=tz, handoff_weekday=0,
                    handoff_time=time(10, 0), rotation_start=start, is_default=default,
                    team_id=team.id if team else None)
    for layer, users in (("primary", primary), ("secondary", secondary)):
        for position, user in enumerate(users, start=1):
            made.members.append(LayerMember(layer=layer, position=position, user=user))
    session.add(made)
    session.flush()
    return made
