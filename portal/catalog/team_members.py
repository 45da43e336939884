"""A catalog team's people as the identity provider lists them, and the services a person
owns through the teams they belong to.

Memberships belong to the auth domain (they change at each sign-in and SCIM update), so
they are read through its account service; the catalog only adds its own tables.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.auth import oidc_accounts
from portal.auth.models import ROLES, User
from portal.catalog.models import Service, Team


@dataclass(frozen=True)
class TeamPerson:
    """One member of a team, as a page shows them."""
    id: int
    name: str
    email: str
    roles: tuple[str, ...]


def _person(user: User) -> TeamPerson:
    # The roles in their canonical order, so every page lists them alike.
    return TeamPerson(id=user.id, name=user.name, email=user.email,
                      roles=tuple(r for r in ROLES if r in user.roles))


def members(*, session: Session, team: Team | None) -> list[TeamPerson]:
    """The active members of `team` from the provider, by name (one statement)."""
    if team is None:
        return []
    return [_person(u) for u in oidc_accounts.team_members(session=session, team_slug=team.slug)]


def services_of(*, session: Session, user: User) -> list[Service]:
    """The catalog entries owned by the teams `user` belongs to, by name (two statements)."""
    slugs = oidc_accounts.teams_of(session=session, user=user)
    if not slugs:
        return []
    return list(session.scalars(select(Service).join(Team, Team.id == Service.team_id)
                                .where(Team.slug.in_(slugs))
                                .order_by(Team.name, Service.name)))
