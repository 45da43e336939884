"""Who a schedule offers for its rotation and overrides, and whose shifts no longer fit.

A schedule is owned by its catalog team. The team's members, as the identity provider
lists them (memberships are rewritten at every sign-in and SCIM update), come first; then
the other people who may be put on call anywhere (on-call, manager and admin roles). A
person who left the team is no longer offered as one of its members, and their upcoming
shifts are flagged on the schedule until someone reassigns them.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session
from wtforms.fields.choices import SelectChoice

from portal.auth import oidc_accounts
from portal.auth.models import User
from portal.db import utcnow
from portal.oncall import service
from portal.oncall.models import LAYERS, Schedule

HORIZON = timedelta(weeks=12)
OTHERS = "Other on-call people"


@dataclass(frozen=True)
class Candidates:
    """The people a schedule offers: its team's members, then everyone else on call."""
    team_name: str | None
    members: list[User]
    others: list[User]

    @property
    def people(self) -> list[User]:
        return self.members + self.others

    @property
    def member_ids(self) -> set[int]:
        return {u.id for u in self.members}

    def choices(self) -> list[SelectChoice]:
        """Select options grouped as the team's members first, then the others."""
        team = f"Team {self.team_name}" if self.team_name else None
        return ([SelectChoice(u.email, f"{u.name} <{u.email}>", optgroup=team)
                 for u in self.members] +
                [SelectChoice(u.email, f"{u.name} <{u.email}>",
                              optgroup=OTHERS if self.members else None)
                 for u in self.others])


@dataclass(frozen=True)
class Outsider:
    """Someone with upcoming shifts on a team's schedule who is not in the team."""
    user: User
    shifts: int
    first_starts_at: datetime
    layers: tuple[str, ...]


def for_schedule(*, session: Session, schedule: Schedule) -> Candidates:
    """The people `schedule` offers, team members first (two statements)."""
    members = [] if schedule.team is None else [
        u for u in oidc_accounts.team_members(session=session, team_slug=schedule.team.slug)
        if u.is_internal]
    ids = {u.id for u in members}
    others = [u for u in service.eligible_people(session=session) if u.id not in ids]
    return Candidates(team_name=schedule.team.name if schedule.team else None,
                      members=members, others=others)


def outside_team(*, session: Session, schedule: Schedule, candidates: Candidates,
                 now: datetime | None = None) -> list[Outsider]:
    """People holding shifts of the coming weeks without being in the schedule's team.

    Only a team the provider lists members for is checked: without any membership the
    team is not fed by the provider yet, and every shift would look misplaced.
    """
    if not candidates.members:
        return []
    now = now or utcnow()
    found: dict[int, list] = {}
    for layer in LAYERS:
        for shift in service.layer_timeline(session=session, schedule=schedule, layer=layer,
                                            start=now, end=now + HORIZON):
            if shift.who is not None and shift.who.id not in candidates.member_ids:
                found.setdefault(shift.who.id, []).append((layer, shift))
    return sorted((Outsider(user=held[0][1].who, shifts=len(held),
                            first_starts_at=min(s.starts_at for _, s in held),
                            layers=tuple(sorted({layer for layer, _ in held})))
                   for held in found.values()), key=lambda o: o.first_starts_at)
