"""Sessions end for real: a cookie copied before logout, a password change or a role change
no longer signs anyone in, and idle and absolute limits end a session by themselves."""
import time

from portal.auth import service as accounts
from portal.security import sessions
from tests.conftest import TEST_PASSWORD


def _cookie(client) -> str:
    return client.get_cookie("session").value


def _replay(app, cookie: str):
    """A second browser that presents a copied session cookie."""
    other = app.test_client()
    other.set_cookie("session", cookie)
    return other.get("/admin/audit")


def test_copied_cookie_fails_after_logout(app, client, login_as):
    login_as("admin")
    copied = _cookie(client)
    assert _replay(app, copied).status_code == 200
    assert client.post_form("/logout").status_code == 303
    response = _replay(app, copied)
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_logout_ends_every_session_of_the_user(app, client, make_user):
    user = make_user("admin")
    first, second = app.test_client(), app.test_client()
    for browser in (first, second):
        browser.post_form("/login", {"email": user.email, "password": TEST_PASSWORD})
    assert second.get("/admin/audit").status_code == 200
    first.post_form("/logout")
    assert second.get("/admin/audit").status_code == 302


def test_password_change_ends_sessions(app, client, session, login_as):
    user = login_as("admin")
    accounts.set_password(user=session.merge(user), password="another long passphrase",
                          params={"time_cost": 1, "memory_cost": 1024, "parallelism": 1})
    session.commit()
    assert client.get("/admin/audit").status_code == 302


def test_role_change_ends_sessions(app, client, session, login_as):
    user = login_as("admin")
    assert client.get("/admin/audit").status_code == 200
    session.merge(user).roles = ["developer"]
    session.commit()
    assert client.get("/admin/audit").status_code == 302


def test_unchanged_roles_keep_the_session(client, session, login_as):
    user = login_as("admin")
    session.merge(user).roles = ["admin"]
    session.commit()
    assert client.get("/admin/audit").status_code == 200


def _age_session(client, *, started: int, seen: int) -> None:
    with client.session_transaction() as data:
        data[sessions.STARTED_KEY] = int(time.time()) - started
        data[sessions.SEEN_KEY] = int(time.time()) - seen


def test_idle_session_expires(app, client, login_as):
    app.config["SESSION_IDLE_MINUTES"] = 30
    login_as("admin")
    _age_session(client, started=29 * 60, seen=29 * 60)
    assert client.get("/admin/audit").status_code == 200  # and that use refreshes last-seen
    with client.session_transaction() as data:
        assert int(time.time()) - data[sessions.SEEN_KEY] < 5
    _age_session(client, started=40 * 60, seen=31 * 60)
    assert client.get("/admin/audit").status_code == 302


def test_absolute_limit_ends_an_active_session(app, client, login_as):
    app.config["SESSION_MAX_HOURS"] = 8
    login_as("admin")
    _age_session(client, started=7 * 3600, seen=10)
    assert client.get("/admin/audit").status_code == 200
    _age_session(client, started=8 * 3600 + 60, seen=10)
    assert client.get("/admin/audit").status_code == 302
    assert client.get("/admin/audit").status_code == 302  # the stale keys were dropped


def test_session_without_a_version_is_refused(client, login_as):
    login_as("admin")
    with client.session_transaction() as data:
        del data[sessions.VERSION_KEY]
    assert client.get("/admin/audit").status_code == 302
