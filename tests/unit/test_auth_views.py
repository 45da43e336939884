"""Login, logout, CSRF, throttling and bad input on the auth pages."""
import re

from sqlalchemy import select

from portal.auth.models import AuditEntry
from tests.conftest import TEST_PASSWORD


def audit_actions(session, action):
    return list(session.scalars(select(AuditEntry).where(AuditEntry.action == action)
                                .order_by(AuditEntry.id)))


def test_login_success_redirects_and_is_audited(client, make_user, session):
    user = make_user("oncall")
    response = client.post_form("/login", {"email": user.email.upper(), "password": TEST_PASSWORD})
    assert response.status_code == 303
    assert response.headers["Location"] == "/"
    entry = audit_actions(session, "auth.login")[-1]
    assert (entry.actor_email, entry.outcome, str(entry.ip)) == (user.email, "success", "127.0.0.1")
    assert entry.request_id
    assert client.get("/").status_code == 200


def test_wrong_password_and_unknown_user_get_the_same_clear_401(client, make_user, session):
    user = make_user("developer")
    wrong = client.post_form("/login", {"email": user.email, "password": "nope"})
    unknown = client.post_form("/login", {"email": "ghost@test.example", "password": "nope"})
    for response in (wrong, unknown):
        assert response.status_code == 401
        assert "Wrong e-mail or password." in response.get_data(as_text=True)
    failures = audit_actions(session, "security.login_failed")
    assert [(e.actor_email, e.outcome, e.details["reason"]) for e in failures] == [
        (user.email, "failure", "bad_password"), ("ghost@test.example", "failure", "unknown_user")]


def test_malformed_and_oversized_fields_get_422_with_field_messages(client):
    bad_email = client.post_form("/login", {"email": "not-an-email", "password": "x"})
    assert bad_email.status_code == 422
    assert "Enter a valid e-mail address" in bad_email.get_data(as_text=True)
    huge = client.post_form("/login", {"email": "a" * 300 + "@x.example", "password": "x" * 600})
    body = huge.get_data(as_text=True)
    assert huge.status_code == 422
    assert "at most 254 characters" in body and "at most 512 characters" in body
    empty = client.post_form("/login", {"email": "", "password": ""})
    assert empty.status_code == 422
    assert "Enter your e-mail address." in empty.get_data(as_text=True)


def test_request_body_over_the_limit_is_413(client):
    response = client.post("/login", data={"email": "x" * (2 * 1024 * 1024)})
    assert response.status_code == 413
    assert "larger than the portal accepts" in response.get_data(as_text=True)


def test_post_without_csrf_token_is_refused(client, make_user, session):
    user = make_user("developer")
    response = client.post("/login", data={"email": user.email, "password": TEST_PASSWORD})
    assert response.status_code == 400
    assert "security token" in response.get_data(as_text=True)
    assert audit_actions(session, "auth.login") == []


def test_htmx_request_with_csrf_header_is_accepted(client, login_as):
    login_as("developer")
    response = client.htmx("POST", "/logout")
    assert response.status_code == 303
    assert client.get("/").status_code == 302


def test_htmx_post_without_csrf_header_gets_an_error_fragment(client, login_as):
    login_as("developer")
    response = client.post("/logout", headers={"HX-Request": "true"})
    assert response.status_code == 400
    assert response.headers["HX-Retarget"] == "#errors"
    assert "<html" not in response.get_data(as_text=True)


def test_logout_is_post_only_and_audited(client, login_as, session):
    user = login_as("manager")
    assert client.get("/logout").status_code == 405
    assert client.post_form("/logout").status_code == 303
    assert audit_actions(session, "auth.logout")[-1].actor_email == user.email


def test_failed_logins_are_throttled(app, client, make_user):
    app.config["LOGIN_RATE_LIMIT"] = "3 per minute"
    user = make_user("developer")
    codes = [client.post_form("/login", {"email": user.email, "password": "bad"}).status_code
             for _ in range(4)]
    assert codes == [401, 401, 401, 429]
    blocked = client.post_form("/login", {"email": user.email, "password": TEST_PASSWORD})
    assert blocked.status_code == 429
    assert "Too many failed sign-in attempts" in blocked.get_data(as_text=True)


def test_open_redirect_after_login_is_refused(client, make_user):
    user = make_user("developer")
    response = client.post_form("/login?next=//evil.example/x",
                                {"email": user.email, "password": TEST_PASSWORD})
    assert response.headers["Location"] == "/"


def test_session_cookie_is_secure_over_https_and_always_httponly_samesite(client, make_user):
    user = make_user("developer")
    page = client.get("/login", base_url="https://portal.test")
    assert "Secure" in page.headers["Set-Cookie"]
    token = re.search(r'name="csrf-token" content="([^"]+)"', page.get_data(as_text=True))[1]
    response = client.post("/login", base_url="https://portal.test",
                           headers={"Referer": "https://portal.test/login"},
                           data={"email": user.email, "password": TEST_PASSWORD, "csrf_token": token})
    assert response.status_code == 303
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("session="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" in cookie
    plain = client.get("/login", base_url="http://portal.test")
    assert "Secure" not in plain.headers.get("Set-Cookie", "")
