"""The theme switch (stored per person, rendered by the server, CSRF, audited, htmx and
plain form) and the installable web app's manifest and icons."""
import json
import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from portal.auth import api_tokens
from portal.auth.models import THEMES, AuditEntry


def html_tag(client, url="/"):
    return re.search(r"<html[^>]*>", client.get(url).get_data(as_text=True)).group(0)


def test_auto_renders_no_data_theme_and_lets_the_device_choose(client, login_as):
    login_as("developer")
    page = client.get("/").get_data(as_text=True)
    assert "data-theme" not in re.search(r"<html[^>]*>", page).group(0)
    assert '<meta name="color-scheme" content="light dark">' in page
    assert 'aria-pressed="true"' in re.search(r'id="theme-auto"[^>]*>', page).group(0)


def test_the_plain_form_stores_the_theme_redirects_back_and_the_server_renders_it(
        client, login_as, session):
    user = login_as("oncall")
    response = client.post_form("/account/theme", {"theme": "dark", "next": "/slo/?q=x"})
    assert response.status_code == 303 and response.headers["Location"] == "/slo/?q=x"
    assert html_tag(client) == '<html lang="en" data-theme="dark">'
    page = client.get("/").get_data(as_text=True)
    assert '<meta name="color-scheme" content="dark">' in page
    assert 'aria-pressed="true"' in re.search(r'id="theme-dark"[^>]*>', page).group(0)
    session.refresh(user)
    assert user.theme == "dark"
    entry = session.scalars(select(AuditEntry).where(
        AuditEntry.action == "auth.preferences_theme")).one()
    assert (entry.actor_email, entry.target_id, entry.details) == (
        user.email, str(user.id), {"theme": "dark", "previous": "auto"})


def test_htmx_gets_no_content_and_an_event_the_page_applies(client, login_as, session):
    user = login_as("manager")
    response = client.htmx("POST", "/account/theme", data={"theme": "light", "next": "/"})
    assert response.status_code == 204
    assert json.loads(response.headers["HX-Trigger"]) == {"portal-theme": "light"}
    session.refresh(user)
    assert user.theme == "light"
    assert 'data-theme="light"' in html_tag(client)


def test_the_switch_needs_csrf_a_session_and_a_known_theme(client, login_as, make_user,
                                                            session):
    assert client.post("/account/theme", data={"theme": "dark"}).status_code == 400  # no CSRF
    anonymous = client.post_form("/account/theme", {"theme": "dark"})
    assert anonymous.status_code in (302, 303) and "/login" in anonymous.headers["Location"]
    user = login_as("developer")
    bad = client.post_form("/account/theme", {"theme": "solarized"})
    assert bad.status_code == 400 and "Choose a theme among auto, light, dark." in bad.get_data(
        as_text=True)
    unsafe = client.post_form("/account/theme", {"theme": "dark", "next": "//evil.example/x"})
    assert unsafe.status_code == 303 and unsafe.headers["Location"] == "/"
    # An API token is no way to change a person's page settings.
    issued = api_tokens.create(session=session, owner=user, name="ci", scopes=["developer"],
                               days=1, max_days=30)
    session.commit()
    by_token = client.post("/account/theme", data={"theme": "light"},
                           headers={"Authorization": f"Bearer {issued.secret}"})
    assert by_token.status_code == 403
    session.refresh(user)
    assert user.theme == "dark"


@settings(max_examples=15, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(value=st.text(max_size=40).filter(lambda v: v.strip() not in THEMES))
def test_property_any_other_theme_value_is_a_clear_400(client, login_as, value):
    if client.get("/").status_code != 200:
        login_as("developer")
    response = client.post_form("/account/theme", {"theme": value})
    assert response.status_code == 400, (value, response.status_code)


def test_login_page_links_an_installable_manifest_with_reachable_icons(client):
    page = client.get("/login").get_data(as_text=True)
    assert '<link rel="manifest" href="/manifest.webmanifest">' in page
    touch = re.search(r'<link rel="apple-touch-icon" href="([^"]+)"', page).group(1)
    response = client.get("/manifest.webmanifest")
    assert response.status_code == 200
    assert response.mimetype == "application/manifest+json"
    manifest = json.loads(response.get_data(as_text=True))
    assert {k: manifest[k] for k in ("name", "short_name", "start_url", "display")} == {
        "name": "Meridian Platform Portal", "short_name": "Meridian", "start_url": "/",
        "display": "standalone"}
    assert re.fullmatch(r"#[0-9a-f]{6}", manifest["theme_color"])
    assert re.fullmatch(r"#[0-9a-f]{6}", manifest["background_color"])
    sizes = {icon["sizes"] for icon in manifest["icons"] if icon["purpose"] == "any"}
    assert {"192x192", "512x512"} <= sizes
    for src, size in [(i["src"], i["sizes"]) for i in manifest["icons"]] + [(touch, "180x180")]:
        icon = client.get(src)
        assert icon.status_code == 200 and icon.mimetype == "image/png", src
        body = icon.get_data()
        assert body[:8] == b"\x89PNG\r\n\x1a\n"
        width, height = int.from_bytes(body[16:20], "big"), int.from_bytes(body[20:24], "big")
        assert f"{width}x{height}" == size, src
