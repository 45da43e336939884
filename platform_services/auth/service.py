"""Identity logic of the auth service: users, API keys and OAuth2 clients.

Secrets we hand out (API keys, client secrets) have 256 bits of entropy, so a SHA-256 of
them is a safe lookup key; user passwords are low-entropy and get argon2id.
"""
from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from platform_services.auth.models import api_keys, oauth_clients, users
from platform_services.auth.vault import SecretsBackend
from platform_services.common import addresses
from platform_services.common.app import ApiError

SCOPE = re.compile(r"^[a-z][a-z0-9:._-]{0,63}$")
MAX_SCOPES = 20
_hasher = PasswordHasher()
# Verifying against a fixed hash when the user is unknown keeps the timing the same.
_DUMMY_HASH = _hasher.hash("not-a-real-password")


def sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def email_hash(pepper: str, tenant_id: int, email: str) -> str:
    """Keyed lookup hash of an address within a tenant."""
    return hmac.new(pepper.encode(), f"{tenant_id}:{email.lower()}".encode(),
                    hashlib.sha256).hexdigest()


def parse_scopes(raw: Any, field: str = "scopes") -> list[str]:
    """A sorted list of valid scopes, or a 422 ApiError."""
    if isinstance(raw, str):
        raw = raw.split()
    if not isinstance(raw, list) or len(raw) > MAX_SCOPES or \
            not all(isinstance(s, str) and SCOPE.match(s) for s in raw):
        raise ApiError(422, "invalid", "invalid scopes",
                       {field: f"up to {MAX_SCOPES} of lowercase letters, digits, : . _ -"})
    return sorted(set(raw))


def parse_name(raw: Any) -> str:
    if not isinstance(raw, str) or not 0 < len(raw.strip()) <= 100:
        raise ApiError(422, "invalid", "invalid name", {"name": "1 to 100 characters"})
    return raw.strip()


def create_user(conn: Connection, backend: SecretsBackend, *, pepper: str, tenant_id: int,
                email: Any, password: Any) -> str:
    """Store a user (e-mail encrypted by transit, password argon2id); returns its id."""
    errors = {}
    if not addresses.is_email(email):
        errors["email"] = "a valid e-mail address"
    if not isinstance(password, str) or not 12 <= len(password) <= 256:
        errors["password"] = "12 to 256 characters"
    if errors:
        raise ApiError(422, "invalid", "invalid user", errors)
    ciphertext = backend.encrypt(email)
    try:
        with conn.begin_nested():
            return conn.execute(users.insert().values(
                tenant_id=tenant_id, email_hash=email_hash(pepper, tenant_id, email),
                email_ciphertext=ciphertext, password_hash=_hasher.hash(password))
                .returning(users.c.id)).scalar_one()
    except IntegrityError as exc:
        raise ApiError(409, "conflict", "a user with this e-mail exists in this tenant") \
            from exc


def authenticate(conn: Connection, *, pepper: str, tenant_id: int, email: Any,
                 password: Any) -> str:
    """The id of the user whose credentials these are, or a 401 ApiError."""
    if not isinstance(email, str) or not isinstance(password, str) or len(password) > 256:
        raise ApiError(401, "invalid_credentials", "wrong e-mail or password")
    row = conn.execute(select(users.c.id, users.c.password_hash).where(
        users.c.tenant_id == tenant_id,
        users.c.email_hash == email_hash(pepper, tenant_id, email))).first()
    try:
        _hasher.verify(row.password_hash if row else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        row = None
    if row is None:
        raise ApiError(401, "invalid_credentials", "wrong e-mail or password")
    return row.id


def create_api_key(conn: Connection, *, tenant_id: int, name: Any, scopes: Any) -> dict:
    """A new API key; the secret is returned once and only its hash is stored."""
    secret = secrets.token_urlsafe(32)
    prefix = secret[:8]
    key = f"mk_{prefix}_{secret[8:]}"
    row = conn.execute(api_keys.insert().values(
        tenant_id=tenant_id, name=parse_name(name), prefix=prefix, key_hash=sha256(key),
        scopes=parse_scopes(scopes)).returning(api_keys.c.id, api_keys.c.scopes)).one()
    return {"id": row.id, "key": key, "prefix": prefix, "scopes": row.scopes}


def verify_api_key(conn: Connection, key: str | None) -> dict:
    """The tenant and scopes of an active API key, or a 401 ApiError."""
    if not key or len(key) > 200:
        raise ApiError(401, "invalid_api_key", "missing or malformed X-API-Key header")
    row = conn.execute(select(api_keys).where(api_keys.c.key_hash == sha256(key),
                                              api_keys.c.revoked_at.is_(None))).first()
    if row is None:
        raise ApiError(401, "invalid_api_key", "unknown or revoked API key")
    return {"id": row.id, "tenant_id": row.tenant_id, "name": row.name, "scopes": row.scopes}


def revoke_api_key(conn: Connection, *, tenant_id: int, key_id: str) -> None:
    """Revoke a key of this tenant (404 when it is not one)."""
    if not re.fullmatch(r"[0-9a-f-]{36}", key_id):
        raise ApiError(404, "not_found", "no such API key")
    done = conn.execute(update(api_keys).where(
        api_keys.c.id == key_id, api_keys.c.tenant_id == tenant_id)
        .values(revoked_at=func.coalesce(api_keys.c.revoked_at, func.now())))
    if done.rowcount == 0:
        raise ApiError(404, "not_found", "no such API key")


def create_client(conn: Connection, *, tenant_id: int, name: Any, scopes: Any) -> dict:
    """A new OAuth2 client (client-credentials); the secret is returned once."""
    client_id = f"mc_{secrets.token_hex(12)}"
    secret = secrets.token_urlsafe(32)
    scopes = parse_scopes(scopes)
    conn.execute(oauth_clients.insert().values(
        client_id=client_id, tenant_id=tenant_id, name=parse_name(name),
        secret_hash=sha256(secret), scopes=scopes))
    return {"client_id": client_id, "client_secret": secret, "scopes": scopes}


def authenticate_client(conn: Connection, client_id: str | None,
                        secret: str | None) -> dict | None:
    """The active client these credentials belong to, or None."""
    if not client_id or not secret or len(client_id) > 40 or len(secret) > 200:
        return None
    row = conn.execute(select(oauth_clients).where(
        oauth_clients.c.client_id == client_id, oauth_clients.c.revoked_at.is_(None))).first()
    if row is None or not hmac.compare_digest(row.secret_hash, sha256(secret)):
        return None
    return {"client_id": row.client_id, "tenant_id": row.tenant_id, "scopes": row.scopes}
