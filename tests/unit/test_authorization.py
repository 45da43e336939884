"""Who may open what: the role matrix, anonymous redirects, tenant isolation."""
import pytest

from portal.auth import service as accounts
from portal.auth.models import User

PAGES = ["/", "/catalog/", "/catalog/services/{service}", "/catalog/clusters", "/tenants/",
         "/tenants/{own}", "/tenants/{other}", "/admin/audit"]
ALLOWED = {
    "tenant_viewer": {"/", "/tenants/{own}"},
    "developer": set(PAGES) - {"/admin/audit"},
    "oncall": set(PAGES) - {"/admin/audit"},
    "manager": set(PAGES) - {"/admin/audit"},
    "admin": set(PAGES),
}


@pytest.fixture
def world(session, make_tenant):
    from portal.catalog import service as catalog
    team = catalog.upsert_team(session=session, slug="t-auth", name="Team", chat_channel=None)
    catalog.upsert_service(session=session, slug="svc-auth", team=team, name="Svc", tier=1,
                           kind="service")
    session.commit()
    return {"own": make_tenant(), "other": make_tenant(), "service": "svc-auth"}


@pytest.mark.parametrize("role", list(ALLOWED))
@pytest.mark.parametrize("page", PAGES)
def test_role_matrix(role, page, client, login_as, world):
    login_as(role, tenant=world["own"] if role == "tenant_viewer" else None)
    url = page.format(own=world["own"].slug, other=world["other"].slug, service=world["service"])
    status = client.get(url).status_code
    if page in ALLOWED[role]:
        assert status == 200
    elif role == "tenant_viewer" and page == "/tenants/{other}":
        assert status == 404  # another tenant does not exist for a tenant viewer
    else:
        assert status == 403


@pytest.mark.parametrize("page", PAGES)
def test_anonymous_is_sent_to_login(page, client, world):
    url = page.format(own=world["own"].slug, other=world["other"].slug, service=world["service"])
    response = client.get(url)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


@pytest.mark.parametrize("url", ["/oncall/silences/abc/expire", "/oncall/pages/1/ack",
                                 "/catalog/import"])
def test_anonymous_posts_are_sent_to_login_without_tripping_the_audit_check(client, url):
    # AUDIT_ENFORCE is on in tests: an unaudited state change would raise (a 500).
    response = client.post_form(url, {})
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


def test_htmx_forbidden_comes_back_as_a_fragment_aimed_at_errors(client, login_as):
    login_as("developer")
    response = client.htmx("GET", "/admin/audit")
    assert response.status_code == 403
    assert response.headers["HX-Retarget"] == "#errors"
    body = response.get_data(as_text=True)
    assert "Not allowed" in body and "<html" not in body


def test_deactivated_user_is_signed_out(client, login_as, session):
    user = login_as("developer")
    session.get(User, user.id).is_active = False
    session.commit()
    assert client.get("/").status_code == 302


@pytest.mark.parametrize("roles,tenant,message", [
    (["tenant_viewer"], None, "must be bound to a tenant"),
    (["tenant_viewer", "developer"], 1, "cannot also hold an internal role"),
    (["developer"], 1, "only tenant viewers are bound"),
    ([], None, "at least one role"),
    (["root"], None, "unknown role"),
])
def test_role_rules_are_enforced(roles, tenant, message):
    with pytest.raises(accounts.AccountError, match=message):
        accounts.validate_roles(roles, tenant)


def test_database_refuses_a_tenant_viewer_without_tenant(session):
    from sqlalchemy.exc import IntegrityError
    session.add(User(email="x@test.example", name="x", password_hash="x", roles=["tenant_viewer"]))
    with pytest.raises(IntegrityError):
        session.flush()
    session.rollback()
