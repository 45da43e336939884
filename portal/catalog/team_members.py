"""A catalog team's people as the identity provider lists them, and the services a person
owns through the teams they belong to.

Memberships belong to the auth domain (they change at each sign-in and SCIM update), so
they are read through its account service; the catalog only adds its own tables.
"""
from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import ColumnElement, ScalarSelect, Text, cast, func, literal_column, select
from sqlalchemy.dialects.postgresql import aggregate_order_by
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


def members_column(team_slug: ColumnElement[str]) -> ScalarSelect[str]:
    """The active members of the team `team_slug` names, by name, as one JSON text column
    (see `from_column`): a page reads them within its main statement."""
    people = oidc_accounts.team_members_statement(team_slug).subquery()
    row = func.json_build_array(people.c.id, people.c.name, people.c.email, people.c.roles)
    listed = func.json_agg(aggregate_order_by(row, func.lower(people.c.name), people.c.id))
    return select(cast(func.coalesce(listed, literal_column("'[]'::json")), Text)) \
        .scalar_subquery()


def from_column(value: str | None) -> list[TeamPerson]:
    """The people of a `members_column` value."""
    return [TeamPerson(id=id_, name=name, email=email,
                       roles=tuple(r for r in ROLES if r in (roles or ())))
            for id_, name, email, roles in json.loads(value or "[]")]


def members(*, session: Session, team: Team | None) -> list[TeamPerson]:
    """The active members of `team` from the provider, by name (one statement)."""
    if team is None:
        return []
    return [_person(u) for u in oidc_accounts.team_members(session=session, team_slug=team.slug)]


def services_of(*, session: Session, user: User) -> list[Service]:
    """The catalog entries owned by the teams `user` belongs to, by name (two statements)."""
    return services_of_teams(session=session,
                             team_slugs=oidc_accounts.teams_of(session=session, user=user))


def services_of_teams(*, session: Session, team_slugs: list[str]) -> list[Service]:
    """The catalog entries owned by these teams, by team then name (one statement)."""
    if not team_slugs:
        return []
    return list(session.scalars(select(Service).join(Team, Team.id == Service.team_id)
                                .where(Team.slug.in_(team_slugs))
                                .order_by(Team.name, Service.name)))
