"""Sign-in through a real OpenID provider: accounts made just in time, roles from groups."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.app import create_app
from portal.auth import claims, oidc_accounts
from portal.auth.claims import ClaimsRefused
from portal.auth.models import AuditEntry, User
from portal.extensions import db
from portal.security.production import InsecureConfiguration
from tests import servers
from tests.conftest import TEST_PASSWORD
from tests.integration.auth_sso.conftest import portal_for
from tests.integration.auth_sso.provider import Browser

pytestmark = pytest.mark.integration


def _user(session, email: str) -> User | None:
    session.expire_all()
    return session.scalar(select(User).where(User.email == email))


def test_first_sign_in_creates_the_account_with_the_mapped_roles(provider, person, session):
    provider.set_account("ada", email="Ada@Corp.example", groups=["sre", "unrelated"])
    response = person.sign_in()
    assert response.status_code == 303
    assert response.headers["Location"] == "/"
    user = _user(session, "ada@corp.example")
    assert user.roles == ["oncall"] and user.tenant_id is None
    assert user.oidc_issuer == provider.issuer and user.oidc_subject == "ada"
    assert user.sso_groups == ["sre", "unrelated"]
    assert oidc_accounts.teams_of(session=session, user=user) == ["platform"]
    assert [u.email for u in oidc_accounts.team_members(session=session,
                                                        team_slug="platform")] == [user.email]
    home = person.client.get("/")
    assert home.status_code == 200 and "Ada" in home.get_data(as_text=True)
    entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "auth.sso_login",
                                                    AuditEntry.actor_id == user.id))
    assert entry.details["created"] is True and entry.details["roles"] == ["oncall"]


def test_roles_are_recomputed_at_every_sign_in(provider, sso_app, session):
    provider.set_account("bob", email="bob@corp.example", groups=["sre", "eng-leads"])
    first = Browser(sso_app.test_client())
    assert first.sign_in().status_code == 303
    assert _user(session, "bob@corp.example").roles == ["oncall", "manager"]
    assert first.client.get("/slo/").status_code != 403  # the old session holds manager

    provider.set_account("bob", email="bob@corp.example", groups=["eng-leads"])
    second = Browser(sso_app.test_client())
    assert second.sign_in().status_code == 303
    user = _user(session, "bob@corp.example")
    assert user.roles == ["manager"]
    assert oidc_accounts.teams_of(session=session, user=user) == []
    # The session opened before the change ended with it.
    stale = first.client.get("/")
    assert stale.status_code == 302 and "/login" in stale.headers["Location"]
    assert second.client.get("/").status_code == 200


def test_a_tenant_group_makes_a_viewer_of_that_tenant(provider, person, session, make_tenant):
    tenant = make_tenant()
    provider.set_account("carol", email="carol@customer.example",
                         groups=[f"tenant:{tenant.slug}"])
    assert person.sign_in().status_code == 303
    user = _user(session, "carol@customer.example")
    assert user.roles == ["tenant_viewer"] and user.tenant_id == tenant.id


def test_a_local_account_of_the_same_email_is_linked(provider, person, session, make_user):
    local = make_user("developer", email="dora@corp.example")
    provider.set_account("dora", email="dora@corp.example", groups=["developers", "sre"])
    assert person.sign_in().status_code == 303
    user = _user(session, "dora@corp.example")
    assert user.id == local.id and user.oidc_subject == "dora"
    assert user.roles == ["developer", "oncall"]


@pytest.mark.parametrize("groups,reason", [
    ([], "no_role"),
    (["sre", "tenant:acme-anything"], "ambiguous_groups"),
    (["tenant:no-such-tenant"], "unknown_tenant"),
])
def test_people_without_a_clear_role_are_refused(provider, person, session, groups, reason):
    provider.set_account("eve", email="eve@corp.example", groups=groups)
    response = person.sign_in()
    assert response.status_code == 403
    assert "Single sign-on refused" in response.get_data(as_text=True)
    assert _user(session, "eve@corp.example") is None
    entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "security.login_failed")
                           .order_by(AuditEntry.id.desc()))
    assert entry.details["reason"] == f"sso:{reason}"


def test_an_unverified_email_is_refused_and_makes_no_account(provider, person, session):
    provider.set_account("fay", email="fay@corp.example", groups=["sre"], email_verified=False)
    response = person.sign_in()
    assert response.status_code == 403
    assert "not verified" in response.get_data(as_text=True)
    assert _user(session, "fay@corp.example") is None
    assert person.client.get("/").status_code == 302  # not signed in


def test_a_replayed_callback_is_refused(provider, person, session):
    provider.set_account("gus", email="gus@corp.example", groups=["sre"])
    assert person.sign_in().status_code == 303
    person.client.post_form("/logout")
    replay = person.client.get(person.portal_path(person.last_callback))
    assert replay.status_code == 400
    assert "already used" in replay.get_data(as_text=True)
    assert person.client.get("/").status_code == 302


def test_a_callback_with_the_old_cookie_cannot_reuse_the_code(provider, sso_app, session):
    provider.set_account("hal", email="hal@corp.example", groups=["sre"])
    person = Browser(sso_app.test_client())
    authorize = person.start_sign_in()
    copied = person.client.get_cookie("session").value  # before the state is used
    callback = person.portal_path(person.follow_provider(authorize))
    assert person.client.get(callback).status_code == 303
    thief = sso_app.test_client()
    thief.set_cookie("session", copied)
    response = thief.get(callback)
    assert response.status_code == 400  # the provider refuses a code it already exchanged
    assert thief.get("/").status_code == 302
    entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "security.login_failed")
                           .order_by(AuditEntry.id.desc()))
    assert entry.details["reason"] == "sso:provider_error:invalid_grant"


def test_sso_people_have_no_usable_password(provider, person, sso_app, session):
    provider.set_account("ivy", email="ivy@corp.example", groups=["sre"])
    person.sign_in()
    other = sso_app.test_client()
    response = other.post_form("/login", {"email": "ivy@corp.example", "password": "!sso"})
    assert response.status_code == 401


def test_local_passwords_are_for_break_glass_accounts_only(sso_app, session, make_user):
    plain = make_user("admin")
    glass = make_user("admin")
    glass.break_glass = True
    session.commit()
    client = sso_app.test_client()
    page = client.get("/login").get_data(as_text=True)
    assert 'id="sso-button"' in page and 'id="break-glass"' in page
    refused = client.post_form("/login", {"email": plain.email, "password": TEST_PASSWORD})
    assert refused.status_code == 403
    assert "break-glass" in refused.get_data(as_text=True)
    allowed = client.post_form("/login", {"email": glass.email, "password": TEST_PASSWORD})
    assert allowed.status_code == 303


def test_all_local_passwords_can_be_kept(base_config, connection, sso_config, make_user):
    app = portal_for(base_config, connection, **sso_config, AUTH_LOCAL_PASSWORDS="all")
    with app.app_context():
        user = make_user("developer")
        client = app.test_client()
        response = client.post_form("/login", {"email": user.email, "password": TEST_PASSWORD})
        assert response.status_code == 303


def test_without_sso_the_login_page_has_no_button(client, make_user):
    assert 'id="sso-button"' not in client.get("/login").get_data(as_text=True)
    assert client.get("/login/sso").status_code == 404
    user = make_user("developer")
    response = client.post_form("/login", {"email": user.email, "password": TEST_PASSWORD})
    assert response.status_code == 303


def test_a_provider_that_does_not_answer_gives_503(base_config, connection, sso_config,
                                                   session):
    app = portal_for(base_config, connection, **{
        **sso_config, "OIDC_ISSUER": f"http://127.0.0.1:{servers.closed_port()}",
        "OIDC_TIMEOUT": 2.0})
    with app.app_context():
        response = app.test_client().get("/login/sso")
    assert response.status_code == 503
    assert "cannot be reached" in response.get_data(as_text=True)


def test_two_first_sign_ins_of_one_person_make_one_account(provider, sso_app, session):
    person = claims.Identity(subject="twin", email="twin@corp.example", name="Twin",
                             groups=("sre",), roles=("oncall",), tenant_slug=None,
                             team_slugs=())
    other = Browser(sso_app.test_client())  # the other request already made the account
    provider.set_account("twin", email="twin@corp.example", groups=["sre"])
    assert other.sign_in().status_code == 303
    with pytest.raises(ClaimsRefused) as refused:
        oidc_accounts._create(db.session, person, provider.issuer, ["oncall"], None)
    assert refused.value.reason == "concurrent_sign_in"
    assert db.session.scalar(select(User).where(User.email == "twin@corp.example")) is not None


def test_hostile_input_gets_4xx(person):
    for hint in ("a\x00b", "x" * 300):
        response = person.client.get("/login/sso", query_string={"login_hint": hint})
        assert response.status_code == 400
    for query in ("state=" + "9" * 5000 + "&code=x", "code=%00&state=%00", "",
                  "error=access_denied&state=x", "state=%EF%BC%91&code=%D9%A1"):
        response = person.client.get(f"/login/sso/callback?{query}")
        assert 400 <= response.status_code < 500, (query, response.status_code)


def test_create_user_makes_a_break_glass_account(sso_app, session):
    result = sso_app.test_cli_runner().invoke(args=[
        "create-user", "--email", "glass@corp.example", "--name", "Glass", "--role", "admin",
        "--break-glass", "--password", TEST_PASSWORD])
    assert result.exit_code == 0, result.output
    assert _user(session, "glass@corp.example").break_glass is True
    response = sso_app.test_client().post_form(
        "/login", {"email": "glass@corp.example", "password": TEST_PASSWORD})
    assert response.status_code == 303


def test_production_will_not_start_with_sso_over_plain_http(base_config, sso_config):
    config = {**base_config, **sso_config, "PORTAL_ENV": "production",
              "SECRET_KEY": "a" * 20 + "-long-random-production-key",
              "CELERY_BROKER_URL": "memory://"}
    with pytest.raises(InsecureConfiguration, match="OIDC_ISSUER must be an https"):
        create_app(config)
