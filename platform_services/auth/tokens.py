"""RS256 access tokens: issuance with the ring's current key, verification against the
JWKS keys, and the revocation list (Redis with the token's remaining lifetime as TTL,
PostgreSQL as the durable copy and the fallback when Redis is unset or down)."""
from __future__ import annotations

import logging
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import jwt
import redis
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.engine import Engine

from platform_services.auth.keys import KeyRing
from platform_services.auth.models import revoked_tokens
from platform_services.auth.settings import AuthSettings

log = logging.getLogger(__name__)
MAX_TOKEN_BYTES = 8192
REQUIRED = ["exp", "iat", "sub", "jti", "iss", "aud"]


class TokenRejected(Exception):
    """The token is not acceptable; `reason` says why (expired, bad signature, revoked...)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Revocations:
    """Revoked token ids, honoured until the token would have expired anyway."""

    def __init__(self, client: redis.Redis | None, engine: Engine, prefix: str) -> None:
        self.client, self.engine, self.prefix = client, engine, prefix

    def _key(self, jti: str) -> str:
        return f"{self.prefix}auth:revoked:{jti}"

    def revoke(self, jti: str, expires_at: int) -> None:
        """Record `jti` as revoked until `expires_at` (unix seconds)."""
        when = datetime.fromtimestamp(expires_at, UTC)
        with self.engine.begin() as conn:
            conn.execute(insert(revoked_tokens).values(jti=jti, expires_at=when)
                         .on_conflict_do_nothing(index_elements=[revoked_tokens.c.jti]))
        if self.client is not None:
            ttl = max(int(expires_at - time.time()), 1)
            try:
                self.client.set(self._key(jti), "1", ex=ttl)
            except redis.RedisError as exc:
                log.warning("revocation of %s kept in PostgreSQL only: %s", jti, exc)

    def is_revoked(self, jti: str) -> bool:
        """True when `jti` was revoked; Redis first, PostgreSQL when Redis is unusable."""
        if self.client is not None:
            try:
                return self.client.exists(self._key(jti)) == 1
            except redis.RedisError as exc:
                log.warning("revocation check falls back to PostgreSQL: %s", exc)
        with self.engine.connect() as conn:
            return conn.scalar(select(revoked_tokens.c.jti)
                               .where(revoked_tokens.c.jti == jti)) is not None


def issue(ring: KeyRing, settings: AuthSettings, *, subject: str, tenant_id: int | None,
          scopes: list[str], kind: str, ttl: int | None = None,
          audience: str | None = None) -> tuple[str, dict[str, Any]]:
    """A signed token and its claims for `subject` of `tenant_id` (None: a platform
    client, no `tenant_id` claim), for `audience` (default: JWT_AUDIENCE)."""
    key = ring.current()
    now = int(time.time())
    claims = {"iss": settings.issuer, "aud": audience or settings.audience, "sub": subject,
              "scope": " ".join(scopes), "token_use": kind,
              "iat": now, "nbf": now, "exp": now + (ttl or settings.token_ttl),
              "jti": uuid.uuid4().hex}
    if tenant_id is not None:
        claims["tenant_id"] = tenant_id
    token = jwt.encode(claims, key.private, algorithm="RS256", headers={"kid": key.kid})
    return token, claims


def verify(ring: KeyRing, revocations: Revocations, settings: AuthSettings,
           token: str, *, check_revoked: bool = True) -> dict[str, Any]:
    """The claims of a valid, unrevoked token, or TokenRejected with the reason."""
    if not token or len(token) > MAX_TOKEN_BYTES:
        raise TokenRejected("malformed token")
    try:
        header = jwt.get_unverified_header(token)
    except jwt.InvalidTokenError as exc:
        raise TokenRejected("malformed token") from exc
    if header.get("alg") != "RS256":
        raise TokenRejected(f"algorithm {header.get('alg')!r} is not accepted (RS256 only)")
    key = ring.public_key(str(header.get("kid", "")))
    if key is None:
        raise TokenRejected("unknown signing key (kid)")
    try:
        claims = jwt.decode(token, key.public, algorithms=["RS256"],
                            audience=settings.audience, issuer=settings.issuer, leeway=5,
                            options={"require": REQUIRED})
    except jwt.ExpiredSignatureError as exc:
        raise TokenRejected("token expired") from exc
    except jwt.InvalidSignatureError as exc:
        raise TokenRejected("signature does not verify") from exc
    except jwt.InvalidTokenError as exc:
        raise TokenRejected(f"invalid token: {exc}") from exc
    if check_revoked and revocations.is_revoked(claims["jti"]):
        raise TokenRejected("token revoked")
    return claims
