"""Bearer API tokens on the portal's JSON endpoints: scope, tenant binding, refusals, CSRF."""
from datetime import timedelta

import pytest
from sqlalchemy import select, text

from portal.auth import api_tokens
from portal.auth.models import AuditEntry
from portal.db import utcnow
from tests.unit.auth_tokens.conftest import bearer


def summary_url(tenant) -> str:
    return f"/status/{tenant.slug}/api/v2/summary.json"


def test_token_reads_a_json_endpoint_as_its_owner(client, make_user, make_tenant, issue,
                                                  session):
    tenant = make_tenant()
    owner = make_user("tenant_viewer", tenant=tenant)
    token, secret = issue(owner, ["tenant_viewer"])
    response = client.get(summary_url(tenant), headers=bearer(secret))
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert response.is_json and "page" in response.get_json()
    assert "Set-Cookie" not in response.headers  # no session is opened for a token
    session.refresh(token)
    assert token.last_used_at is not None


def test_scope_narrower_than_the_owner_is_refused_with_403(client, make_user, make_tenant,
                                                           issue):
    owner = make_user("developer", "manager")
    _, secret = issue(owner, ["manager"])
    assert client.get("/catalog/catalog-info.yaml?format=json",
                      headers=bearer(secret)).status_code == 200
    _, scim_only = issue(make_user("admin"), ["scim"])
    response = client.get("/catalog/catalog-info.yaml?format=json", headers=bearer(scim_only))
    assert response.status_code == 403
    assert response.is_json and response.get_json()["error"] == "Not allowed"


def test_owner_losing_a_role_loses_it_in_the_token(client, make_user, issue, session):
    owner = make_user("developer", "manager")
    _, secret = issue(owner, ["manager"])
    owner.roles = ["developer"]
    session.commit()
    assert client.get("/catalog/catalog-info.yaml?format=json",
                      headers=bearer(secret)).status_code == 403


def test_tenant_bound_token_cannot_read_another_tenant(client, make_user, make_tenant, issue):
    mine, other = make_tenant(), make_tenant()
    viewer_token = issue(make_user("tenant_viewer", tenant=mine), ["tenant_viewer"])[1]
    assert client.get(summary_url(other), headers=bearer(viewer_token)).status_code == 404
    # An internal user's token bound to one tenant is scoped like a tenant viewer's session.
    staff_token = issue(make_user("developer"), ["developer"], tenant=mine)[1]
    assert client.get(summary_url(mine), headers=bearer(staff_token)).status_code == 200
    assert client.get(summary_url(other), headers=bearer(staff_token)).status_code == 404


@pytest.mark.parametrize("case", ["expired", "revoked", "garbage", "unknown", "empty",
                                  "inactive_owner"])
def test_unusable_tokens_get_401_with_a_clear_json_error(case, client, make_user, make_tenant,
                                                         issue, session):
    tenant = make_tenant()
    owner = make_user("tenant_viewer", tenant=tenant)
    token, secret = issue(owner, ["tenant_viewer"])
    if case == "expired":
        token.expires_at = utcnow() - timedelta(seconds=1)
    elif case == "revoked":
        api_tokens.revoke(token=token, by="test")
    elif case == "inactive_owner":
        owner.is_active = False
    session.commit()
    presented = {"garbage": "not a token \u00e9", "unknown": "mpt_" + "x" * 43,
                 "empty": ""}.get(case, secret)
    response = client.get(summary_url(tenant), headers={"Authorization": f"Bearer {presented}"})
    assert response.status_code == 401
    body = response.get_json()
    expected = {"garbage": "malformed", "empty": "missing",
                "inactive_owner": "owner_inactive"}.get(case, case)
    assert body["error"] == "invalid_token" and body["reason"] == expected
    assert body["message"] and response.headers["WWW-Authenticate"].startswith("Bearer ")
    refused = session.scalars(select(AuditEntry).where(
        AuditEntry.action == "security.token_refused")).all()
    assert refused[-1].details["reason"] == expected
    if case in ("expired", "revoked", "inactive_owner"):
        assert refused[-1].details["token_id"] == token.id


def test_a_bearer_request_ignores_the_session_cookie(client, login_as, make_tenant):
    login_as("manager")
    assert client.get("/catalog/catalog-info.yaml?format=json").status_code == 200
    response = client.get("/catalog/catalog-info.yaml?format=json",
                          headers=bearer("mpt_" + "y" * 43))
    assert response.status_code == 401  # the cookie is not a fallback


def test_bearer_requests_skip_csrf_but_cookie_sessions_do_not(client, login_as, make_user,
                                                              make_tenant, issue):
    tenant = make_tenant()
    viewer = make_user("tenant_viewer", tenant=tenant)
    _, secret = issue(viewer, ["tenant_viewer"])
    url = f"/status/{tenant.slug}/subscriptions"
    form = {"email": "someone@example.com"}
    with_token = client.post(url, data=form, headers=bearer(secret))
    assert with_token.status_code not in (400, 401, 403), with_token.get_data(as_text=True)[:300]
    login_as("tenant_viewer", tenant=tenant)
    without_csrf = client.post(url, data=form)
    assert without_csrf.status_code == 400
    assert "security token" in without_csrf.get_data(as_text=True)


def test_the_database_keeps_only_a_hash(make_user, issue, session):
    token, secret = issue(make_user("developer"), ["developer"])
    row = session.execute(text("SELECT * FROM api_tokens WHERE id = :id"),
                          {"id": token.id}).mappings().one()
    assert secret not in " ".join(str(v) for v in row.values())
    assert row["secret_hash"] == api_tokens.digest(secret) and len(row["secret_hash"]) == 64
    assert secret.startswith("mpt_") and row["prefix"] == secret[:10]


def test_scopes_must_be_held_by_the_owner(make_user, session):
    developer = make_user("developer")
    with pytest.raises(api_tokens.TokenError):
        api_tokens.create(session=session, owner=developer, name="x", scopes=["manager"],
                          days=30, max_days=365)
    with pytest.raises(api_tokens.TokenError):
        api_tokens.create(session=session, owner=developer, name="x", scopes=["scim"],
                          days=30, max_days=365)
    with pytest.raises(api_tokens.TokenError):
        api_tokens.create(session=session, owner=developer, name="x", scopes=["developer"],
                          days=366, max_days=365)
    assert api_tokens.grantable_scopes(make_user("admin"))[-1] == "scim"
