"""Token endpoints: OAuth2 client credentials (RFC 6749 §4.4), revocation (RFC 7009),
the JWKS, token verification for the gateway, and key rotation."""
from __future__ import annotations

import hmac
import logging
import re

from flask import Blueprint, jsonify, request

from platform_services.auth import platform_clients, service, tokens
from platform_services.auth.keys import KeyRing, RotationFailed
from platform_services.auth.settings import AuthSettings
from platform_services.auth.vault import VaultUnavailable
from platform_services.common.app import ApiError
from platform_services.common.observability import Metrics

log = logging.getLogger(__name__)
BEARER = re.compile(r"^Bearer ([A-Za-z0-9._~+/=-]+)$")
AUDIENCE = re.compile(r"^[a-z][a-z0-9-]{0,62}$")


def oauth_error(status: int, error: str, description: str):
    """An RFC 6749 §5.2 error answer."""
    response = jsonify({"error": error, "error_description": description})
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Basic realm="meridian"'
    return response


def bearer() -> str:
    """The bearer token of the request, or a 401 ApiError."""
    match = BEARER.match(request.headers.get("Authorization", ""))
    if not match:
        raise ApiError(401, "invalid_token", "send Authorization: Bearer <token>")
    return match.group(1)


def require_admin(settings: AuthSettings) -> None:
    """403 unless the request carries the admin bearer token (credential management)."""
    if not settings.admin_token:
        raise ApiError(403, "forbidden", "management over HTTP is off (set AUTH_ADMIN_TOKEN)")
    if not hmac.compare_digest(bearer().encode(), settings.admin_token.encode()):
        raise ApiError(403, "forbidden", "not the admin token")


def blueprint(engine, ring: KeyRing, revocations: tokens.Revocations,
              settings: AuthSettings, metrics: Metrics) -> Blueprint:
    bp = Blueprint("oauth", __name__)
    platform = platform_clients.load(settings.platform_clients_file)

    @bp.post("/oauth/token")
    def token():
        if request.form.get("grant_type") != "client_credentials":
            return oauth_error(400, "unsupported_grant_type",
                               "only grant_type=client_credentials is supported")
        auth = request.authorization
        client_id = auth.username if auth else request.form.get("client_id")
        secret = auth.password if auth else request.form.get("client_secret")
        client = platform_clients.authenticate(platform, client_id, secret)
        if client is None:
            with engine.connect() as conn:
                client = service.authenticate_client(conn, client_id, secret)
        if client is None:
            metrics.event("token_issue", "invalid_client")
            return oauth_error(401, "invalid_client", "unknown client or wrong secret")
        wanted = request.form.get("scope")
        try:
            scopes = service.parse_scopes(wanted) if wanted else client["scopes"]
        except ApiError:
            return oauth_error(400, "invalid_scope", "malformed scope")
        if not set(scopes) <= set(client["scopes"]):
            return oauth_error(400, "invalid_scope", "scope exceeds the client's grant")
        # The service the token is for (one per token: a token leaked by one service
        # cannot be replayed against another).
        audience = request.form.get("audience") or None
        if audience is not None and not AUDIENCE.match(audience):
            return oauth_error(400, "invalid_request", "malformed audience")
        access, claims = tokens.issue(ring, settings, subject=client["client_id"],
                                      tenant_id=client["tenant_id"], scopes=scopes,
                                      kind="client", audience=audience)
        metrics.event("token_issue", "client_credentials")
        return jsonify({"access_token": access, "token_type": "Bearer",
                        "expires_in": claims["exp"] - claims["iat"], "scope": claims["scope"]})

    @bp.post("/oauth/revoke")
    def revoke():
        raw = request.form.get("token", "")
        try:
            claims = tokens.verify(ring, revocations, settings, raw, check_revoked=False)
        except tokens.TokenRejected:
            # RFC 7009 §2.2: an invalid token needs no revocation; answer 200 all the same.
            return jsonify({"revoked": False})
        revocations.revoke(claims["jti"], claims["exp"])
        metrics.event("token_revoke", "revoked")
        return jsonify({"revoked": True, "jti": claims["jti"]})

    @bp.get("/.well-known/jwks.json")
    def jwks():
        response = jsonify(ring.jwks())
        response.headers["Cache-Control"] = "public, max-age=60"
        return response

    @bp.get("/v1/tokens/verify")
    def verify():
        # The edge (infra/nginx) asks for the audience of the service it routes to, and
        # reads the caller from the X-Token-* headers (nginx's auth_request sees no body).
        audience = request.args.get("audience")
        if audience is not None and not AUDIENCE.match(audience):
            raise ApiError(400, "invalid_request", "malformed audience")
        checked = settings.with_(audience=audience) if audience else settings
        try:
            claims = tokens.verify(ring, revocations, checked, bearer())
        except tokens.TokenRejected as exc:
            metrics.event("token_verify", "rejected")
            reason = exc.reason.replace('"', "'")[:200]
            raise ApiError(401, "invalid_token", exc.reason, headers={
                "WWW-Authenticate": f'Bearer realm="meridian", error="invalid_token", '
                                    f'error_description="{reason}"'}) from exc
        metrics.event("token_verify", "valid")
        response = jsonify({"active": True, "claims": claims})
        response.headers["X-Token-Subject"] = str(claims["sub"])
        response.headers["X-Token-Tenant"] = str(claims.get("tenant_id", ""))
        return response

    @bp.post("/v1/keys/rotate")
    def rotate():
        require_admin(settings)
        try:
            key = ring.rotate()
        except RotationFailed as exc:
            raise ApiError(503, "rotation_failed", str(exc)) from exc
        return jsonify({"kid": key.kid, "jwks": [k["kid"] for k in ring.jwks()["keys"]]})

    return bp


def vault_unavailable(exc: VaultUnavailable):
    """503 naming the Vault failure (PII encryption or a first key load needs Vault)."""
    log.error("vault unavailable: %s", exc)
    return jsonify({"error": "vault_unavailable", "message": str(exc)}), 503
