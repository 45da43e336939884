"""Single sign-on with an OpenID Connect provider, through Authlib's Flask client.

Authorization code flow with PKCE (S256), state and nonce kept in the signed session and
used once. The ID token is checked for its signature against the provider's JWKS (fetched
again when a token names a key the portal has not seen, so a key rotation needs no restart),
its issuer (the configured one, which the discovery document must also announce), its
audience (this client), its expiry and issue time (with OIDC_CLOCK_SKEW_SECONDS of
tolerance) and the nonce of this sign-in. Sign-out ends the portal session and sends the
browser to the provider's end_session_endpoint with the ID token as hint.
"""
from __future__ import annotations

from contextlib import contextmanager
from urllib.parse import urlsplit

import requests
from authlib.integrations.base_client import MismatchingStateError, OAuthError
from authlib.integrations.flask_client import OAuth
from authlib.oidc.core import CodeIDToken
from flask import Flask, current_app, session, url_for
from joserfc.errors import JoseError

from portal.auth.models import User
from portal.security.production import InsecureConfiguration

CLIENT_NAME = "sso"
ID_TOKEN_KEY = "_sso_id_token"  # kept for the id_token_hint of the provider's sign-out
NEXT_KEY = "_sso_next"
UNUSABLE_PASSWORD = "!sso"  # not an argon2 hash: a password can never match it
# Browsers drop a cookie over 4 KB (and with it the session): a bigger ID token (hundreds of
# groups) is not kept, and sign-out names this client to the provider instead of the token.
MAX_KEPT_ID_TOKEN = 2048


class SignInFailed(Exception):
    """A single sign-on that did not produce a trustworthy identity.

    `reason` is a stable code for the audit log, `status` the HTTP status of the page shown.
    """

    def __init__(self, reason: str, message: str, status: int = 400):
        super().__init__(message)
        self.reason, self.status = reason, status


def is_configured(config) -> bool:
    """True when single sign-on is set up (an issuer and a client id)."""
    return bool(config.get("OIDC_ISSUER") and config.get("OIDC_CLIENT_ID"))


def local_password_allowed(user: User, config) -> bool:
    """Whether `user` may sign in with a local password under AUTH_LOCAL_PASSWORDS."""
    if not is_configured(config) or config["AUTH_LOCAL_PASSWORDS"] == "all":
        return True
    return bool(user.break_glass)


def check_production(config) -> None:
    """Refuse a production start whose single sign-on could be impersonated."""
    if config.get("PORTAL_ENV") != "production" or not is_configured(config):
        return
    problems = []
    if urlsplit(config["OIDC_ISSUER"]).scheme != "https":
        problems.append("OIDC_ISSUER must be an https:// URL")
    if not config.get("OIDC_CLIENT_SECRET"):
        problems.append("OIDC_CLIENT_SECRET is unset")
    if problems:
        raise InsecureConfiguration("refusing to start in production: " + "; ".join(problems))


def init_app(app: Flask) -> None:
    """Register the provider's client when single sign-on is configured."""
    if not is_configured(app.config):
        return
    check_production(app.config)
    issuer = app.config["OIDC_ISSUER"].rstrip("/")
    oauth = OAuth(app)
    oauth.register(
        CLIENT_NAME, client_id=app.config["OIDC_CLIENT_ID"],
        client_secret=app.config["OIDC_CLIENT_SECRET"],
        server_metadata_url=f"{issuer}/.well-known/openid-configuration",
        client_kwargs={"scope": app.config["OIDC_SCOPES"], "code_challenge_method": "S256",
                       "default_timeout": app.config["OIDC_TIMEOUT"]})
    app.extensions["oidc"] = oauth


def client():
    """The provider's client of this app, with a discovery document whose issuer matches."""
    sso = current_app.extensions["oidc"].create_client(CLIENT_NAME)
    try:
        metadata = sso.load_server_metadata()
    except (requests.RequestException, ValueError) as exc:
        raise SignInFailed("provider_unavailable", "The identity provider cannot be reached. "
                           "Try again in a minute.", 503) from exc
    if metadata.get("issuer") != current_app.config["OIDC_ISSUER"]:
        # Forget it: a corrected provider (or setting) is picked up on the next attempt.
        sso.server_metadata.pop("_loaded_at", None)
        raise SignInFailed("issuer_mismatch", "The identity provider announced another "
                           "issuer than the one configured; single sign-on is refused.", 502)
    return sso


def _public_url(endpoint: str) -> str:
    return current_app.config["PUBLIC_BASE_URL"].rstrip("/") + url_for(endpoint)


def authorize_redirect(*, next_url: str | None, login_hint: str | None = None):
    """The redirect to the provider's authorization endpoint that starts a sign-in."""
    sso = client()
    # One sign-in in flight per browser: older states go, so the cookie cannot grow.
    for key in [k for k in session if k.startswith(f"_state_{CLIENT_NAME}_")]:
        session.pop(key)
    session[NEXT_KEY] = next_url
    extra = {"login_hint": login_hint} if login_hint else {}
    return sso.authorize_redirect(_public_url("auth.oidc.callback"), **extra)


def _claims_options(config) -> dict:
    return {"iss": {"essential": True, "value": config["OIDC_ISSUER"]},
            "aud": {"essential": True, "value": config["OIDC_CLIENT_ID"]},
            "sub": {"essential": True}, "exp": {"essential": True},
            "iat": {"essential": True}}


@contextmanager
def _refusals():
    """Turn the client's and the token checks' exceptions into SignInFailed."""
    try:
        yield
    except MismatchingStateError as exc:
        raise SignInFailed("state_mismatch", "This sign-in link was already used or has "
                           "expired. Start again from the sign-in page.") from exc
    except OAuthError as exc:
        raise SignInFailed(f"provider_error:{(exc.error or 'unknown')[:40]}",
                           "The identity provider refused the sign-in.") from exc
    except JoseError as exc:
        raise SignInFailed(f"id_token_invalid:{exc.error}", "The identity provider's "
                           "answer could not be trusted (invalid ID token).") from exc
    except requests.RequestException as exc:
        raise SignInFailed("provider_unavailable", "The identity provider cannot be reached. "
                           "Try again in a minute.", 503) from exc


def verify_id_token(id_token: str, *, nonce: str | None) -> dict:
    """The claims of `id_token` once its signature, issuer, audience, times and nonce hold."""
    config = current_app.config
    with _refusals():
        claims = client().parse_id_token({"id_token": id_token}, nonce,
                                         claims_options=_claims_options(config),
                                         claims_cls=CodeIDToken,
                                         leeway=config["OIDC_CLOCK_SKEW_SECONDS"])
    return dict(claims)


def finish() -> dict:
    """Exchange the callback's code and return the claims of the checked ID token."""
    config = current_app.config
    sso = client()
    with _refusals():
        token = sso.authorize_access_token(claims_options=_claims_options(config),
                                           leeway=config["OIDC_CLOCK_SKEW_SECONDS"])
    claims = token.get("userinfo")
    if not claims or not token.get("id_token"):
        raise SignInFailed("no_id_token", "The identity provider sent no ID token.")
    session[ID_TOKEN_KEY] = token["id_token"] if len(token["id_token"]) <= MAX_KEPT_ID_TOKEN \
        else ""
    return dict(claims)


def pop_next() -> str | None:
    """The page the person wanted before signing in (once)."""
    return session.pop(NEXT_KEY, None)


def end_session_url() -> str | None:
    """The provider's sign-out URL for this session's ID token (None without SSO)."""
    id_token = session.pop(ID_TOKEN_KEY, None)
    if id_token is None or "oidc" not in current_app.extensions:
        return None
    try:
        sso = client()
    except SignInFailed:
        return None  # the portal session ends anyway; the provider's is not ours to force
    if not sso.load_server_metadata().get("end_session_endpoint"):
        return None
    hint = {"id_token_hint": id_token} if id_token else {"client_id": sso.client_id}
    return sso.create_logout_url(post_logout_redirect_uri=_public_url("auth.login"),
                                 **hint)["url"]
