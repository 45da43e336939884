"""The API tokens pages: create (secret shown once), list, revoke, admin view, bad input."""
import re

import pytest
from sqlalchemy import select

from portal.auth.models import AuditEntry
from portal.auth.tokens_models import ApiToken
from tests.unit.auth_tokens.conftest import bearer


def actions(session, prefix):
    return [e for e in session.scalars(select(AuditEntry).order_by(AuditEntry.id))
            if e.action.startswith(prefix)]


def create(client, **fields):
    form = {"name": "grafana-export", "scopes": ["developer"], "expires_days": "30", **fields}
    return client.post_form("/account/api-tokens", form)


def test_create_shows_the_secret_once_and_lists_the_token(client, login_as, session):
    user = login_as("developer")
    response = create(client)
    assert response.status_code == 201
    assert response.headers["Cache-Control"] == "no-store"
    secret = re.search(r'value="(mpt_[A-Za-z0-9_-]+)"', response.get_data(as_text=True)).group(1)
    token = session.scalars(select(ApiToken).where(ApiToken.user_id == user.id)).one()
    assert token.scopes == ["developer"] and token.prefix == secret[:10]
    later = client.get("/account/api-tokens").get_data(as_text=True)
    assert secret not in later and token.prefix in later and "grafana-export" in later
    (entry,) = actions(session, "auth.api_token_create")
    assert entry.details["scopes"] == ["developer"] and secret not in str(entry.details)
    assert client.get("/catalog/catalog-info.yaml?format=json",
                      headers=bearer(secret)).status_code == 200


def test_owner_and_admin_revoke_others_cannot(client, login_as, make_user, issue, session):
    stranger_token, stranger_secret = issue(make_user("developer"), ["developer"])
    user = login_as("developer")
    mine, _ = issue(user, ["developer"])
    assert client.post_form(f"/account/api-tokens/{stranger_token.id}/revoke").status_code == 404
    assert client.post_form(f"/account/api-tokens/{mine.id}/revoke").status_code == 303
    session.refresh(mine)
    assert mine.revoked_at is not None and mine.revoked_by == user.email
    assert client.get("/admin/api-tokens").status_code == 403
    client.post_form("/logout")
    login_as("admin")
    page = client.get("/admin/api-tokens").get_data(as_text=True)
    assert stranger_token.prefix in page and mine.prefix in page
    assert client.post_form(f"/admin/api-tokens/{stranger_token.id}/revoke").status_code == 303
    assert client.get("/catalog/catalog-info.yaml?format=json",
                      headers=bearer(stranger_secret)).status_code == 401
    revokes = actions(session, "auth.api_token_revoke")
    assert [e.details["by_admin"] for e in revokes] == [False, True]


def test_a_token_cannot_manage_tokens(client, make_user, issue, session):
    owner = make_user("admin")
    token, secret = issue(owner, ["admin"])
    assert client.get("/account/api-tokens", headers=bearer(secret)).status_code == 403
    assert client.post(f"/account/api-tokens/{token.id}/revoke",
                       headers=bearer(secret)).status_code == 403
    version = owner.session_version
    assert client.post("/logout", headers=bearer(secret)).status_code == 403
    session.refresh(owner)
    assert owner.session_version == version  # a token cannot sign its owner out


@pytest.mark.parametrize("fields, status", [
    ({"name": "bad\x00name"}, 400),
    ({"expires_days": "9" * 40}, 400),
    ({"expires_days": "99999"}, 422),
    ({"expires_days": "\u0663\u0660"}, 422),  # Arabic-Indic digits for 30
    ({"expires_days": "0"}, 422),
    ({"expires_days": ""}, 422),
    ({"scopes": ["manager"]}, 422),
    ({"scopes": []}, 422),
    ({"name": "x" * 81}, 422),
    ({"name": "tab\tname"}, 422),
    ({"tenant": "no-such-tenant"}, 422),
])
def test_hostile_input_is_refused_with_4xx(fields, status, client, login_as, session):
    login_as("developer")
    response = create(client, **fields)
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    assert session.scalars(select(ApiToken)).first() is None


def test_tenant_viewer_tokens_are_bound_to_their_tenant(client, login_as, make_tenant, session):
    tenant = make_tenant()
    login_as("tenant_viewer", tenant=tenant)
    page = client.get("/account/api-tokens").get_data(as_text=True)
    assert "Limit to tenant" not in page and 'value="admin"' not in page
    assert create(client, scopes=["tenant_viewer"]).status_code == 201
    assert session.scalars(select(ApiToken)).one().tenant_id == tenant.id

