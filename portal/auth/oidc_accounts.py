"""Accounts of people who sign in through the identity provider.

An account is created the first time a person signs in (just in time) and its roles, tenant
binding and team memberships are recomputed from the provider's groups at every sign-in, so
a person removed from a group loses what the group gave at the next sign-in. Changing the
roles ends the person's other sessions (see portal.security.sessions).
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, Select, delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal.auth import service as accounts
from portal.auth.claims import ClaimsRefused, Identity
from portal.auth.models import User
from portal.auth.oidc import UNUSABLE_PASSWORD
from portal.auth.oidc_models import TeamMembership
from portal.db import utcnow
from portal.security import sessions
from portal.tenants import service as tenants


@dataclass(frozen=True)
class SignIn:
    user: User
    created: bool
    previous_roles: tuple[str, ...]
    previous_tenant_id: int | None


def _find(session: Session, identity: Identity, issuer: str) -> User | None:
    user = session.scalar(select(User).where(User.oidc_issuer == issuer,
                                             User.oidc_subject == identity.subject))
    if user is not None:
        return user
    user = accounts.get_by_email(session=session, email=identity.email)
    if user is None:
        return None
    if user.oidc_subject is not None:
        raise ClaimsRefused("email_taken", "Another single sign-on identity already uses "
                                           "this e-mail address in the portal.")
    if user.break_glass:
        raise ClaimsRefused("break_glass_account", "This is a local break-glass account; "
                                                   "it signs in with its password only.")
    return user  # a local account of the same verified e-mail: linked from now on


def _tenant_id(session: Session, identity: Identity) -> int | None:
    if identity.tenant_slug is None:
        return None
    tenant = tenants.get_by_slug(session=session, slug=identity.tenant_slug)
    if tenant is None:
        raise ClaimsRefused("unknown_tenant", "Your group names a customer the portal does "
                                              "not know. Ask your administrator.")
    return tenant.id


def _email_free(session: Session, email: str, user: User) -> None:
    if user.email == email:
        return
    other = accounts.get_by_email(session=session, email=email)
    if other is not None and other.id != user.id:
        raise ClaimsRefused("email_taken", "Another portal account already uses your new "
                                           "e-mail address.")
    user.email = email


def set_teams(*, session: Session, user: User, team_slugs: tuple[str, ...]) -> None:
    """Replace the provider-given team memberships of `user`."""
    session.execute(delete(TeamMembership).where(TeamMembership.user_id == user.id,
                                                 TeamMembership.source == "oidc",
                                                 TeamMembership.team_slug.not_in(team_slugs)))
    held = set(session.scalars(select(TeamMembership.team_slug)
                               .where(TeamMembership.user_id == user.id)))
    session.add_all(TeamMembership(user_id=user.id, team_slug=slug)
                    for slug in team_slugs if slug not in held)
    session.flush()


def team_members(*, session: Session, team_slug: str) -> list[User]:
    """Active people who belong to the catalog team `team_slug`, by name."""
    return list(session.scalars(team_members_statement(team_slug)))


def team_members_statement(team_slug: str | ColumnElement[str]) -> Select[tuple[User]]:
    """The statement of `team_members`; `team_slug` may be an SQL expression, for a page
    that reads the members within a larger statement."""
    return (select(User).join(TeamMembership, TeamMembership.user_id == User.id)
            .where(TeamMembership.team_slug == team_slug, User.is_active.is_(True))
            .order_by(func.lower(User.name)))


def teams_of(*, session: Session, user: User) -> list[str]:
    """Slugs of the catalog teams `user` belongs to."""
    return list(session.scalars(select(TeamMembership.team_slug)
                                .where(TeamMembership.user_id == user.id)
                                .order_by(TeamMembership.team_slug)))


def _create(session: Session, identity: Identity, issuer: str, roles: list[str],
            tenant_id: int | None) -> User:
    user = User(email=identity.email, name=identity.name, roles=roles, tenant_id=tenant_id,
                password_hash=UNUSABLE_PASSWORD, oidc_issuer=issuer,
                oidc_subject=identity.subject)
    try:
        with session.begin_nested():  # the unique keys decide between two first sign-ins
            session.add(user)
            session.flush()
    except IntegrityError as exc:
        raise ClaimsRefused("concurrent_sign_in", "Another sign-in with your account was "
                                                  "being completed; sign in again.") from exc
    return user


def sign_in(*, session: Session, identity: Identity, issuer: str) -> SignIn:
    """Create or update the account of `identity` and return it, ready for a session."""
    user = _find(session, identity, issuer)
    tenant_id = _tenant_id(session, identity)
    roles = accounts.validate_roles(list(identity.roles), tenant_id)
    if user is None:
        user = _create(session, identity, issuer, roles, tenant_id)
        previous: tuple[str, ...] = ()
        previous_tenant = None
        created = True
    else:
        if not user.is_active:
            raise ClaimsRefused("inactive", "Your portal account is disabled.")
        previous, previous_tenant, created = tuple(user.roles), user.tenant_id, False
        _email_free(session, identity.email, user)
        user.oidc_issuer, user.oidc_subject = issuer, identity.subject
        user.name = identity.name
        if list(user.roles) != roles:
            user.roles = roles  # ends the person's other sessions
        if user.tenant_id != tenant_id:
            user.tenant_id = tenant_id
            sessions.end_all(user)  # a session scoped to the old tenant must not live on
    user.sso_groups = list(identity.groups)
    user.last_login_at = utcnow()
    session.flush()
    set_teams(session=session, user=user, team_slugs=identity.team_slugs)
    return SignIn(user=user, created=created, previous_roles=previous,
                  previous_tenant_id=previous_tenant)
