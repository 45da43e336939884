"""Scoped API tokens: create, list, revoke, and resolve a presented secret to its owner.

A token is `mpt_` followed by 256 random bits; only its SHA-256 is stored (a secret of that
entropy needs no slow hash), looked up by that digest and compared in constant time. What
a token may do is the intersection of its scopes and its owner's roles at the moment of
use, so taking a role from a person takes it from their tokens too.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session

from portal.auth.models import ROLES, User
from portal.auth.tokens_models import ApiToken
from portal.db import utcnow

PREFIX = "mpt_"
SCIM = "scim"  # lets the identity provider provision people and groups; admins only
CI = "ci"  # lets a CI pipeline upload image scan reports; developers (and admins) only
SCOPES = (*ROLES, CI, SCIM)
SHOWN_PREFIX = 10  # characters of the secret kept to recognise a token in lists
LAST_USED_RESOLUTION = timedelta(minutes=1)  # refresh last-used at most once a minute
_SECRET_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_")


class TokenError(ValueError):
    """A token request that breaks the rules (scope beyond the owner's roles, bad expiry)."""


@dataclass(frozen=True)
class Issued:
    token: ApiToken
    secret: str  # shown once to its owner, never stored


@dataclass(frozen=True)
class Resolved:
    """A presented secret: the token and owner when valid, else why not (for the audit)."""
    token: ApiToken | None
    user: User | None
    roles: tuple[str, ...] = ()
    scim: bool = False  # may use the SCIM API (scope `scim` and an admin owner)
    ci: bool = False  # may upload scan reports (scope `ci`, an internal developer owner)
    reason: str | None = None


def digest(secret: str) -> str:
    """The stored form of a secret."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def grantable_scopes(user: User) -> list[str]:
    """The scopes `user` may put on a token: roles they hold, and `scim` for admins."""
    if user.tenant_id is not None:
        return ["tenant_viewer"]
    scopes = [r for r in ROLES if r != "tenant_viewer" and user.has_role(r)]
    scopes += [CI] if user.has_role("developer") else []
    return scopes + [SCIM] if user.has_role("admin") else scopes


def create(*, session: Session, owner: User, name: str, scopes: list[str], days: int,
           max_days: int, tenant_id: int | None = None) -> Issued:
    """Issue a token for `owner`; the secret is returned here and nowhere else."""
    allowed = grantable_scopes(owner)
    if not scopes or set(scopes) - set(allowed):
        raise TokenError("Choose scopes among the roles you hold: " + ", ".join(allowed) + ".")
    if not 1 <= days <= max_days:
        raise TokenError(f"A token expires after 1 to {max_days} days.")
    if owner.tenant_id is not None:
        tenant_id = owner.tenant_id  # a tenant viewer's token can only ever see that tenant
    secret = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user_id=owner.id, name=name.strip(), prefix=secret[:SHOWN_PREFIX],
                     secret_hash=digest(secret), scopes=[s for s in SCOPES if s in scopes],
                     tenant_id=tenant_id, expires_at=utcnow() + timedelta(days=days))
    session.add(token)
    session.flush()
    return Issued(token, secret)


def list_for(*, session: Session, owner: User | None = None) -> list[ApiToken]:
    """Tokens of `owner` (all tokens when None), newest first."""
    stmt = select(ApiToken).order_by(ApiToken.id.desc())
    if owner is not None:
        stmt = stmt.where(ApiToken.user_id == owner.id)
    return list(session.scalars(stmt))


def get(*, session: Session, token_id: int) -> ApiToken | None:
    """A token by id."""
    return session.get(ApiToken, token_id)


def revoke(*, token: ApiToken, by: str) -> bool:
    """Revoke a token; False when it already was."""
    if token.revoked_at is not None:
        return False
    token.revoked_at, token.revoked_by = utcnow(), by
    return True


def revoke_all(*, session: Session, user: User, by: str) -> int:
    """Revoke every live token of `user` (deprovisioning); returns how many."""
    # A DML statement executes to a CursorResult, which Session.execute's typing leaves out.
    result = cast("CursorResult[Any]", session.execute(update(ApiToken).where(
        ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=utcnow(), revoked_by=by)))
    return result.rowcount


def status(token: ApiToken, now: datetime | None = None) -> str:
    """`active`, `expired` or `revoked`, for lists."""
    if token.revoked_at is not None:
        return "revoked"
    return "expired" if token.expires_at <= (now or utcnow()) else "active"


def _well_formed(secret: str) -> bool:
    return (secret.startswith(PREFIX) and 20 <= len(secret) <= 100
            and set(secret[len(PREFIX):]) <= _SECRET_CHARS)


def resolve(*, session: Session, secret: str, now: datetime | None = None) -> Resolved:
    """Check a presented secret and work out the roles it carries right now."""
    now = now or utcnow()
    if not _well_formed(secret):
        return Resolved(None, None, reason="malformed")
    wanted = digest(secret)
    token = session.scalar(select(ApiToken).where(ApiToken.secret_hash == wanted))
    if token is None or not hmac.compare_digest(token.secret_hash, wanted):
        return Resolved(None, None, reason="unknown")
    owner = token.user
    why = ("revoked" if token.revoked_at is not None else
           "expired" if token.expires_at <= now else
           "owner_inactive" if not owner.is_active else
           "tenant_changed" if owner.tenant_id not in (None, token.tenant_id) else None)
    if why:
        return Resolved(token, None, reason=why)
    roles = tuple(r for r in ROLES if r in token.scopes and (
        r in owner.roles if r == "tenant_viewer" else owner.has_role(r)))
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        token.last_used_at = now
    return Resolved(token, owner, roles, scim=SCIM in token.scopes and owner.has_role("admin"),
                    ci=CI in token.scopes and owner.tenant_id is None
                    and owner.has_role("developer"))
