"""ID tokens the portal must refuse, key rotation at the provider, and RP-initiated logout."""
from __future__ import annotations

import time

import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey
from sqlalchemy import select

from portal.auth import oidc
from portal.auth.models import AuditEntry
from tests.integration.auth_sso.conftest import portal_for
from tests.integration.auth_sso.provider import (
    CLIENT_ID,
    PORTAL_URL,
    Browser,
    OpenIDProvider,
    provider_sign_out_link,
    query_of,
)

pytestmark = pytest.mark.integration


def _last_refusal(session) -> str:
    session.expire_all()
    entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "security.login_failed")
                           .order_by(AuditEntry.id.desc()))
    return entry.details["reason"]


def _token(key: RSAKey, **overrides) -> str:
    now = int(time.time())
    claims = {"iss": overrides.pop("iss"), "aud": CLIENT_ID, "sub": "mallory",
              "iat": now, "exp": now + 300, "email": "mallory@corp.example",
              "email_verified": True, "groups": ["sre"], **overrides}
    return jwt.encode({"alg": "RS256", "kid": key.kid}, claims, key)


def _flip(token: str, part: int) -> str:
    pieces = token.split(".")
    middle = len(pieces[part]) // 2
    char = pieces[part][middle]
    pieces[part] = pieces[part][:middle] + ("A" if char != "A" else "B") + \
        pieces[part][middle + 1:]
    return ".".join(pieces)


def test_a_token_signed_with_the_providers_key_passes(provider, sso_app):
    with sso_app.test_request_context():
        claims = oidc.verify_id_token(_token(provider.signing_key, iss=provider.issuer),
                                      nonce=None)
    assert claims["sub"] == "mallory"


@pytest.mark.parametrize("change,reason", [
    ({"iss": "https://elsewhere.example"}, "id_token_invalid:invalid_claim"),
    ({"aud": "another-client"}, "id_token_invalid:invalid_claim"),
    ({"exp": int(time.time()) - 5, "iat": int(time.time()) - 400},
     "id_token_invalid:expired_token"),
    ({"iat": int(time.time()) + 3600, "exp": int(time.time()) + 7200},
     "id_token_invalid:invalid_claim"),
    ({"nonce": "not-this-sign-in"}, "id_token_invalid:invalid_claim"),
])
def test_tokens_with_wrong_claims_are_refused(provider, sso_app, change, reason):
    token = _token(provider.signing_key, **{"iss": provider.issuer, **change})
    with sso_app.test_request_context(), pytest.raises(oidc.SignInFailed) as refused:
        oidc.verify_id_token(token, nonce="this-sign-in" if "nonce" in change else None)
    assert refused.value.reason == reason


def test_a_token_signed_by_another_key_is_refused(provider, sso_app):
    impostor = RSAKey.generate_key(2048, parameters={"kid": provider.signing_key.kid},
                                   private=True)
    with sso_app.test_request_context(), pytest.raises(oidc.SignInFailed) as refused:
        oidc.verify_id_token(_token(impostor, iss=provider.issuer), nonce=None)
    assert refused.value.reason == "id_token_invalid:bad_signature"


def test_a_tampered_id_token_from_a_real_sign_in_is_refused(provider, person):
    provider.set_account("tess", email="tess@corp.example", groups=["sre"])
    assert person.sign_in().status_code == 303
    with person.client.session_transaction() as cookie:
        issued = cookie[oidc.ID_TOKEN_KEY]
    with person.client.application.test_request_context():
        assert oidc.verify_id_token(issued, nonce=None)["sub"] == "tess"
        for part in (1, 2):  # a changed claim, a changed signature
            with pytest.raises(oidc.SignInFailed) as refused:
                oidc.verify_id_token(_flip(issued, part), nonce=None)
            assert refused.value.reason.startswith("id_token_invalid:")


def test_an_issuer_other_than_the_configured_one_is_refused(base_config, connection, session,
                                                            tmp_path):
    other = OpenIDProvider(tmp_path, issuer_path="/another-issuer").start()
    try:
        app = portal_for(base_config, connection, **{**other.config(), "OIDC_ISSUER": other.url})
        with app.app_context():
            response = app.test_client().get("/login/sso")
        assert response.status_code == 502
        assert "another issuer" in response.get_data(as_text=True)
        assert _last_refusal(session) == "sso:issuer_mismatch"
    finally:
        other.stop()


def test_an_expired_id_token_from_the_provider_is_refused(base_config, connection, session,
                                                          sso_config, tmp_path):
    # The provider's clock runs 15 minutes behind: its 5-minute tokens arrive expired.
    late = OpenIDProvider(tmp_path, CLOCK_OFFSET_SECONDS="-900", ID_TOKEN_TTL="300").start()
    try:
        late.set_account("otto", email="otto@corp.example", groups=["sre"])
        app = portal_for(base_config, connection, **{**sso_config, **late.config(),
                                                     "OIDC_CLOCK_SKEW_SECONDS": 60})
        with app.app_context():
            person = Browser(app.test_client())
            response = person.sign_in()
            assert response.status_code == 400
            assert person.client.get("/").status_code == 302
        assert _last_refusal(session) == "sso:id_token_invalid:expired_token"
    finally:
        late.stop()


def test_a_rotated_signing_key_is_fetched_without_a_restart(base_config, connection, session,
                                                            sso_config, tmp_path):
    rotating = OpenIDProvider(tmp_path).start()
    try:
        rotating.set_account("rita", email="rita@corp.example", groups=["sre"])
        app = portal_for(base_config, connection, **{**sso_config, **rotating.config()})
        with app.app_context():
            assert Browser(app.test_client()).sign_in().status_code == 303
            old_kids = rotating.signing_kids()
            rotating.rotate_key()
            assert rotating.signing_kids() != old_kids
            assert Browser(app.test_client()).sign_in().status_code == 303
            cached = app.extensions["oidc"].create_client(oidc.CLIENT_NAME).server_metadata
            assert [k["kid"] for k in cached["jwks"]["keys"]] == rotating.signing_kids()
    finally:
        rotating.stop()


def test_sign_out_ends_the_portal_and_the_provider_session(provider, person, session):
    provider.set_account("lou", email="lou@corp.example", groups=["sre"])
    assert person.sign_in().status_code == 303
    # While the provider's session lives, a new sign-in comes straight back to the portal.
    assert person.web.get(person.start_sign_in(), allow_redirects=False) \
        .headers["Location"].startswith(PORTAL_URL)
    with person.client.session_transaction() as cookie:
        issued = cookie[oidc.ID_TOKEN_KEY]

    response = person.client.post_form("/logout")
    assert response.status_code == 200  # a page that moves on (CSP keeps forms in the portal)
    end_session = provider_sign_out_link(response.get_data(as_text=True))
    assert end_session.startswith(f"{provider.url}/session/end?")
    params = query_of(end_session)
    assert params["id_token_hint"] == issued
    assert params["post_logout_redirect_uri"] == f"{PORTAL_URL}/login"
    assert person.client.get("/").status_code == 302  # the portal session ended

    landing = person.follow_provider(end_session)
    assert landing.startswith(f"{PORTAL_URL}/login")
    # The provider's session ended too: signing in again needs its login step.
    again = person.web.get(person.start_sign_in(), allow_redirects=False)
    assert "/interaction/" in again.headers["Location"]
    entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "auth.logout")
                           .order_by(AuditEntry.id.desc()))
    assert entry is not None


def test_a_person_in_hundreds_of_groups_signs_in_and_out(provider, person, session):
    groups = ["sre"] + [f"department-{i:03d}-distribution-list" for i in range(300)]
    provider.set_account("max", email="max@corp.example", groups=groups)
    assert person.sign_in().status_code == 303
    with person.client.session_transaction() as cookie:
        assert cookie[oidc.ID_TOKEN_KEY] == ""  # too big for a cookie: not kept
    page = person.client.post_form("/logout").get_data(as_text=True)
    end_session = provider_sign_out_link(page)
    params = query_of(end_session)
    assert "id_token_hint" not in params and params["client_id"] == CLIENT_ID
    assert person.follow_provider(end_session).startswith(f"{PORTAL_URL}/login")
