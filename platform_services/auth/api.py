"""The auth service: users and logins, API keys, OAuth2 clients, tokens and the JWKS."""
from __future__ import annotations

import jwt
from flask import Blueprint, jsonify, request

from platform_services.auth import oauth, service, tokens
from platform_services.auth.keys import KeyRing
from platform_services.auth.models import tenants
from platform_services.auth.schemas import OPERATIONS, Login, NewCredential, NewUser
from platform_services.auth.settings import AuthSettings
from platform_services.auth.vault import SecretsBackend, VaultUnavailable, make_backend
from platform_services.common import jwt_auth, openapi, secrets_check
from platform_services.common import settings as service_settings
from platform_services.common import tenants as tenant_registry
from platform_services.common.app import Check, create_service_app, json_body
from platform_services.common.base import Foundation, count_api_usage, foundation
from platform_services.common.config import ServiceConfig
from platform_services.common.resources import postgres_check, redis_check
from platform_services.common.runner import PerProcess, Service
from platform_services.common.schemas import parse


def _routes(base: Foundation, backend: SecretsBackend, ring: KeyRing,
            settings: AuthSettings) -> Blueprint:
    bp = Blueprint("auth", __name__)
    engine, metrics = base.engine, base.metrics

    def tenant_id(ref: str) -> int:
        with engine.connect() as conn:
            return tenant_registry.resolve(conn, tenants, ref)

    @bp.post("/v1/tenants/<tenant>/users")
    def create_user(tenant: str):
        oauth.require_admin(settings)
        user = parse(NewUser, json_body(), "invalid user")
        tid = tenant_id(tenant)
        with engine.begin() as conn:
            user_id = service.create_user(conn, backend, pepper=settings.email_pepper,
                                          tenant_id=tid, email=user.email,
                                          password=user.password)
        return jsonify({"id": user_id, "tenant_id": tid}), 201

    @bp.post("/v1/tenants/<tenant>/login")
    def login(tenant: str):
        creds = parse(Login, json_body(), "invalid login")
        tid = tenant_id(tenant)
        try:
            with engine.connect() as conn:
                user_id = service.authenticate(conn, pepper=settings.email_pepper,
                                               tenant_id=tid, email=creds.email,
                                               password=creds.password)
        except Exception:
            metrics.event("login", "failed")
            raise
        token, claims = tokens.issue(ring, settings, subject=user_id, tenant_id=tid,
                                     scopes=["tenant:read"], kind="user")
        metrics.event("login", "ok")
        return jsonify({"access_token": token, "token_type": "Bearer",
                        "expires_in": claims["exp"] - claims["iat"]})

    @bp.post("/v1/tenants/<tenant>/api-keys")
    def create_api_key(tenant: str):
        oauth.require_admin(settings)
        req = parse(NewCredential, json_body(), "invalid API key")
        tid = tenant_id(tenant)
        with engine.begin() as conn:
            key = service.create_api_key(conn, tenant_id=tid, name=req.name,
                                         scopes=req.scopes)
        return jsonify(key), 201

    @bp.post("/v1/tenants/<tenant>/api-keys/<key_id>/revoke")
    def revoke_api_key(tenant: str, key_id: str):
        oauth.require_admin(settings)
        tid = tenant_id(tenant)
        with engine.begin() as conn:
            service.revoke_api_key(conn, tenant_id=tid, key_id=key_id)
        return jsonify({"id": key_id, "revoked": True})

    @bp.get("/v1/api-keys/verify")
    def verify_api_key():
        with engine.connect() as conn:
            return jsonify(service.verify_api_key(conn, request.headers.get("X-API-Key")))

    @bp.post("/v1/tenants/<tenant>/oauth-clients")
    def create_client(tenant: str):
        oauth.require_admin(settings)
        req = parse(NewCredential, json_body(), "invalid OAuth client")
        tid = tenant_id(tenant)
        with engine.begin() as conn:
            client = service.create_client(conn, tenant_id=tid, name=req.name,
                                           scopes=req.scopes)
        return jsonify(client), 201

    return bp


# The endpoints that authenticate by what they are sent (a password, a client secret, the
# token itself, an API key, the admin token) or that publish public keys.
SELF_AUTHENTICATED = frozenset({
    "auth.login", "auth.verify_api_key", "auth.create_user", "auth.create_api_key",
    "auth.revoke_api_key", "auth.create_client", "oauth.token", "oauth.revoke", "oauth.jwks",
    "oauth.verify", "oauth.rotate"})
POLICY = jwt_auth.Policy("auth", jwt_auth.REGISTRY_SCOPES, SELF_AUTHENTICATED)


def ring_keys(ring: KeyRing):
    """Key lookup for the auth service's own checks: its ring, no HTTP round trip."""
    def key_for(token: str):
        kid = str(jwt.get_unverified_header(token).get("kid", ""))
        key = ring.public_key(kid)
        if key is None:
            raise jwt_auth.TokenInvalid("unknown signing key (kid)")
        return key.public
    return key_for


def vault_check(backend: SecretsBackend) -> Check:
    """Degradable: without Vault, tokens keep being issued and verified from cached keys;
    rotation and new users (PII encryption) fail with 503."""
    return Check("vault", backend.check, critical=False)


def build(config: ServiceConfig, *, log: bool = True,
          settings: AuthSettings | None = None) -> Service:
    """The auth service; `settings` default to the AUTH/VAULT/JWT environment variables."""
    settings = settings or service_settings.load(AuthSettings)
    secrets_check.require_safe(config, settings)
    base = foundation(config, log=log)
    backend = make_backend(settings)
    ring = KeyRing(backend, settings, base.metrics)
    revocations = tokens.Revocations(base.redis, base.engine, config.redis_prefix)
    checks = [postgres_check(base.engine), vault_check(backend),
              redis_check(base.redis, "revocations checked in PostgreSQL")]
    app = create_service_app(config.service, base.metrics, checks)
    app.register_error_handler(VaultUnavailable, oauth.vault_unavailable)
    app.register_blueprint(tenant_registry.blueprint(base.engine, tenants))
    app.register_blueprint(_routes(base, backend, ring, settings))
    app.register_blueprint(oauth.blueprint(base.engine, ring, revocations, settings,
                                           base.metrics))
    app.extensions["key_ring"] = ring
    openapi.install(app, "auth", OPERATIONS, SELF_AUTHENTICATED)
    verifier = jwt_auth.Verifier(ring_keys(ring), settings.issuer,
                                 jwt_auth.audience_of(config.service))
    jwt_auth.protect(app, verifier, POLICY, jwt_auth.tenant_lookup(base.engine, tenants))
    return Service(config.service, app, [PerProcess(count_api_usage(base, app, tenants))],
                   [base.engine], [base.redis.close] if base.redis else [])
