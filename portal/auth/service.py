"""Accounts: password hashing, authentication, user management."""
from __future__ import annotations

from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.auth.models import INTERNAL_ROLES, ROLES, User
from portal.db import utcnow
from portal.security import sessions

_DEFAULT_HASHER = PasswordHasher()
# A real hash of a throwaway password: verifying against it for unknown accounts makes a
# failed login cost the same time whether or not the account exists.
_DUMMY_HASH = _DEFAULT_HASHER.hash("not-a-real-password")


class AccountError(ValueError):
    """A user or role assignment that breaks the account rules."""


@dataclass(frozen=True)
class LoginResult:
    user: User | None
    reason: str | None  # why it failed, for the audit log only (never shown to the client)


def hasher(params: dict | None = None) -> PasswordHasher:
    """The argon2id hasher; tests pass cheaper parameters."""
    return PasswordHasher(**params) if params else _DEFAULT_HASHER


def hash_password(password: str, *, params: dict | None = None) -> str:
    """Hash a password with argon2id."""
    return hasher(params).hash(password)


def validate_roles(roles: list[str], tenant_id: int | None) -> list[str]:
    """Check a role set against the account rules and return it sorted."""
    unknown = set(roles) - set(ROLES)
    if unknown:
        raise AccountError(f"unknown role(s): {', '.join(sorted(unknown))}")
    if not roles:
        raise AccountError("a user needs at least one role")
    if "tenant_viewer" in roles:
        if set(roles) & set(INTERNAL_ROLES):
            raise AccountError("a tenant viewer cannot also hold an internal role")
        if tenant_id is None:
            raise AccountError("a tenant viewer must be bound to a tenant")
    elif tenant_id is not None:
        raise AccountError("only tenant viewers are bound to a tenant")
    return sorted(set(roles), key=ROLES.index)


def get_by_email(*, session: Session, email: str) -> User | None:
    """Find a user by e-mail, case-insensitively."""
    return session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))


def get(*, session: Session, user_id: int) -> User | None:
    """Load a user by id."""
    return session.get(User, user_id)


def create(*, session: Session, email: str, name: str, password: str, roles: list[str],
           tenant_id: int | None = None, params: dict | None = None) -> User:
    """Create a local account after checking the role rules."""
    if get_by_email(session=session, email=email) is not None:
        raise AccountError(f"an account for {email} already exists")
    user = User(email=email.strip().lower(), name=name, roles=validate_roles(roles, tenant_id),
                tenant_id=tenant_id, password_hash=hash_password(password, params=params))
    session.add(user)
    session.flush()
    return user


def set_password(*, user: User, password: str, params: dict | None = None) -> None:
    """Replace a user's password hash and end every session the user has open."""
    user.password_hash = hash_password(password, params=params)
    sessions.end_all(user)


def authenticate(*, session: Session, email: str, password: str,
                 params: dict | None = None) -> LoginResult:
    """Check credentials; rehash on success when the argon2 parameters changed."""
    ph = hasher(params)
    user = get_by_email(session=session, email=email)
    try:
        ph.verify(user.password_hash if user else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return LoginResult(None, "unknown_user" if user is None else "bad_password")
    if user is None:
        return LoginResult(None, "unknown_user")
    if not user.is_active:
        return LoginResult(None, "inactive")
    if ph.check_needs_rehash(user.password_hash):
        user.password_hash = ph.hash(password)
    user.last_login_at = utcnow()
    return LoginResult(user, None)
