"""Bearer tokens on every service endpoint: RS256 JWTs issued by the auth service.

Each request but `/healthz` needs a token that verifies against the auth service's JWKS
(fetched over HTTP and cached; an unknown `kid` refetches it, so a key rotation is honoured
at once), names this service in `aud`, is not expired, and carries the scope the route
needs: `<prefix>:read` for GET, `<prefix>:write` otherwise, or the route's own (e.g.
`tenants:admin`). A token with a `tenant_id` claim is bound to that tenant: another
tenant's path answers 404, exactly like a tenant that does not exist, so ids cannot be
probed. Routes without a tenant in their path (the tenant registry, /metrics, /readyz,
/openapi.json, whose `<prefix>:read` is for the platform's clients) and
`*:admin` scopes need a platform token, i.e. one without `tenant_id`.

401 (with `WWW-Authenticate: Bearer ... error="invalid_token"`) for a missing or invalid
token, 403 (`error="insufficient_scope"`) for a valid token without the scope.
"""
from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import jwt
from flask import Flask, g, request
from sqlalchemy import Table, select
from sqlalchemy.engine import Engine

from platform_services.common import security_events
from platform_services.common.app import ApiError
from platform_services.common.tenants import MAX_TENANT_ID, parse_ref

log = logging.getLogger(__name__)
BEARER = re.compile(r"^Bearer ([A-Za-z0-9._~+/=-]{1,8192})$")
REQUIRED_CLAIMS = ["exp", "iat", "sub", "iss", "aud"]
READ_METHODS = frozenset({"GET", "HEAD"})
OPS_SCOPE = "ops:read"  # /metrics and /readyz
PROBE_ENDPOINTS = {"metrics_endpoint": OPS_SCOPE, "readyz": OPS_SCOPE}
OPEN_ENDPOINTS = frozenset({"healthz"})
REGISTRY_SCOPES = {"tenants.put_tenant": "tenants:admin"}  # PUT /v1/tenants/<slug>  # liveness: the process serves, nothing more
LEEWAY_SECONDS = 5
# Refusals counted in meridian_security_events_total (a 503 for unreachable keys is not).
SECURITY_EVENTS = {401: "token_refused", 403: "forbidden", 404: "tenant_refused"}
# An unknown kid refetches the JWKS at most this often: a rotation is seen within a
# second, while a flood of made-up kids costs the auth service one fetch a second.
UNKNOWN_KID_COOLDOWN_SECONDS = 1.0


class TokenInvalid(Exception):
    """The token does not verify; the message says why (expired, audience, signature...)."""


@dataclass(frozen=True)
class Principal:
    """Who called: the token's subject, its tenant (None: a platform client) and scopes."""
    subject: str
    tenant_id: int | None
    scopes: frozenset[str]


def audience_of(service: str) -> str:
    """The `aud` a token must carry to call `service`."""
    return f"meridian-{service}"


class JwksKeys:
    """Public keys from the auth service's JWKS over HTTP (PyJWKClient: cached for
    `cache_seconds`, refetched on an unknown kid at most once per cooldown)."""

    def __init__(self, jwks_url: str, *, cache_seconds: float = 300.0,
                 timeout: float = 3.0) -> None:
        self.client = jwt.PyJWKClient(jwks_url, cache_keys=False, lifespan=cache_seconds,
                                      timeout=timeout,
                                      cooldown_duration=UNKNOWN_KID_COOLDOWN_SECONDS)

    def key_for(self, token: str) -> Any:
        """The public key that signed `token`; TokenInvalid for an unknown kid, 503 when
        the JWKS cannot be fetched (no token can be checked, so none is accepted)."""
        try:
            return self.client.get_signing_key_from_jwt(token).key
        except jwt.PyJWKClientConnectionError as exc:
            log.error("JWKS unreachable: %s", exc)
            raise ApiError(503, "auth_unavailable", "the auth service's keys cannot be "
                                                    "fetched; retry shortly") from exc
        except (jwt.PyJWKClientError, jwt.InvalidTokenError) as exc:
            raise TokenInvalid("unknown signing key (kid)") from exc


class VerifiedTokens:
    """Tokens this process has verified, with their caller, so a client that sends the
    same token on every request costs one RS256 check per `max_age`, not one per request.

    An entry ends when its token expires (with the verifier's leeway) or `max_age` after
    it was checked, whichever is first: a key withdrawn from the JWKS stops a cached token
    within `max_age`, no later than the JWKS cache itself would notice. Only tokens that
    verified are stored, at most `size` (the oldest goes first), so made-up tokens cannot
    fill it and every one of them pays the full check."""

    def __init__(self, size: int = 1024, max_age: float = 60.0,
                 clock: Callable[[], float] = time.time) -> None:
        self.size, self.max_age, self.clock = size, max_age, clock
        self._entries: dict[str, tuple[Principal, float]] = {}
        self._lock = threading.Lock()

    def get(self, token: str) -> Principal | None:
        """The caller of `token` if it verified and its entry has not ended."""
        entry = self._entries.get(token)
        if entry is None or entry[1] <= self.clock():
            return None
        return entry[0]

    def put(self, token: str, principal: Principal, expires_at: float) -> None:
        """Remember `token` (valid until `expires_at`, epoch seconds) for its caller."""
        until = min(expires_at + LEEWAY_SECONDS, self.clock() + self.max_age)
        with self._lock:
            self._entries.pop(token, None)
            self._entries[token] = (principal, until)
            while len(self._entries) > self.size:
                del self._entries[next(iter(self._entries))]


@dataclass
class Verifier:
    """Checks a bearer token for one service (audience) against one issuer's keys;
    `cache` (optional) skips the signature check for tokens it verified recently."""
    key_for: Callable[[str], Any]
    issuer: str
    audience: str
    cache: VerifiedTokens | None = None

    def verify(self, token: str) -> Principal:
        """The caller of a valid token, or TokenInvalid naming the reason."""
        known = self.cache.get(token) if self.cache is not None else None
        if known is not None:
            return known
        claims = self._check(token)
        principal = _principal(claims)
        if self.cache is not None:
            self.cache.put(token, principal, float(claims["exp"]))
        return principal

    def _check(self, token: str) -> dict[str, Any]:
        """The claims of `token` after every check, or TokenInvalid."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError as exc:
            raise TokenInvalid("malformed token") from exc
        if header.get("alg") != "RS256":
            raise TokenInvalid("only RS256 tokens are accepted")
        key = self.key_for(token)
        try:
            claims = jwt.decode(token, key, algorithms=["RS256"], audience=self.audience,
                                issuer=self.issuer, leeway=LEEWAY_SECONDS,
                                options={"require": REQUIRED_CLAIMS})
        except jwt.ExpiredSignatureError as exc:
            raise TokenInvalid("token expired") from exc
        except jwt.InvalidAudienceError as exc:
            raise TokenInvalid(f"token is not for {self.audience}") from exc
        except jwt.InvalidTokenError as exc:
            raise TokenInvalid(f"invalid token: {exc}") from exc
        return claims


def _principal(claims: dict[str, Any]) -> Principal:
    tenant = claims.get("tenant_id")
    if tenant is not None and (isinstance(tenant, bool) or not isinstance(tenant, int)
                               or not 1 <= tenant <= MAX_TENANT_ID):
        raise TokenInvalid("invalid tenant_id claim")
    scope = claims.get("scope", "")
    if not isinstance(scope, str):
        raise TokenInvalid("invalid scope claim")
    return Principal(str(claims["sub"]), tenant, frozenset(scope.split()))


@dataclass(frozen=True)
class Policy:
    """Which scope each endpoint of a service needs: `<prefix>:read|write` by method,
    unless `scopes` names the endpoint; `public` endpoints check credentials themselves."""
    prefix: str
    scopes: dict[str, str] = field(default_factory=dict)
    public: frozenset[str] = frozenset()

    def scope_for(self, endpoint: str, method: str) -> str:
        """The scope a request of `method` to `endpoint` needs."""
        named = self.scopes.get(endpoint) or PROBE_ENDPOINTS.get(endpoint)
        if named:
            return named
        return f"{self.prefix}:{'read' if method in READ_METHODS else 'write'}"


def tenant_lookup(engine: Engine, tenants: Table) -> Callable[[str], int | None]:
    """Path tenant (id or slug) → tenant id via the service's registry; None when unknown."""
    def lookup(ref: str) -> int | None:
        value = parse_ref(ref)
        if value is None or isinstance(value, int):
            return value
        with engine.connect() as conn:
            return conn.scalar(select(tenants.c.id).where(tenants.c.slug == value))
    return lookup


def _challenge(error: str, description: str, scope: str | None = None) -> dict[str, str]:
    parts = ['Bearer realm="meridian"', f'error="{error}"',
             f'error_description="{description[:200]}"']
    if scope:
        parts.append(f'scope="{scope}"')
    return {"WWW-Authenticate": ", ".join(parts)}


def authenticate(verifier: Verifier) -> Principal:
    """The caller of this request, or a 401 ApiError with a Bearer challenge."""
    match = BEARER.match(request.headers.get("Authorization", ""))
    if not match:
        raise ApiError(401, "unauthorized", "send Authorization: Bearer <token>",
                       headers={"WWW-Authenticate": 'Bearer realm="meridian"'})
    try:
        return verifier.verify(match.group(1))
    except TokenInvalid as exc:
        reason = str(exc).replace('"', "'")
        raise ApiError(401, "invalid_token", reason,
                       headers=_challenge("invalid_token", reason)) from exc


def authorize(principal: Principal, scope: str, tenant_ref: str | None,
              tenant_of: Callable[[str], int | None]) -> None:
    """403 without `scope` (or a tenant token where a platform one is needed); 404 when a
    tenant-bound token names another tenant's path."""
    if scope not in principal.scopes:
        raise ApiError(403, "insufficient_scope", f"the token lacks the scope {scope!r}",
                       headers=_challenge("insufficient_scope", "missing scope", scope))
    if principal.tenant_id is None:
        return
    if tenant_ref is None or scope.endswith(":admin"):
        raise ApiError(403, "insufficient_scope", "this operation needs a platform token, "
                                                  "not a tenant's",
                       headers=_challenge("insufficient_scope", "platform token needed",
                                          scope))
    if tenant_of(tenant_ref) != principal.tenant_id:
        raise ApiError(404, "unknown_tenant", f"no tenant {tenant_ref[:80]!r}")


def protect(app: Flask, verifier: Verifier, policy: Policy,
            tenant_of: Callable[[str], int | None]) -> None:
    """Require a valid token with the route's scope on every endpoint of `app` but
    /healthz and `policy.public`."""
    metrics = app.extensions.get("metrics")
    if metrics is not None:
        security_events.install(metrics)

    @app.before_request
    def _require_token() -> None:
        endpoint = request.endpoint
        # No endpoint: the router answers 404/405 itself, with nothing served.
        if endpoint is None or endpoint in OPEN_ENDPOINTS or endpoint in policy.public:
            return
        try:
            principal = authenticate(verifier)
            tenant = (request.view_args or {}).get("tenant")
            authorize(principal, policy.scope_for(endpoint, request.method),
                      tenant if isinstance(tenant, str) else None, tenant_of)
        except ApiError as exc:
            if exc.status in SECURITY_EVENTS and metrics is not None:
                security_events.record(metrics, SECURITY_EVENTS[exc.status])
            raise
        g.principal = principal
