"""What every signed-in page pays before its own content stays exact while made cheaper:
remembered URLs equal the URLs Flask builds, and the request's user is read afresh on
every request."""
import uuid

from flask import Flask, g, url_for
from werkzeug.routing import AnyConverter, FloatConverter, PathConverter, UUIDConverter
from werkzeug.routing.converters import NumberConverter

from portal import url_memo
from portal.auth.models import User


def _sample(converter) -> object:
    if isinstance(converter, AnyConverter):
        return sorted(converter.items)[0]
    if isinstance(converter, UUIDConverter):
        return uuid.UUID(int=7)
    if isinstance(converter, FloatConverter):
        return 1.5
    if isinstance(converter, NumberConverter):
        return 7
    if isinstance(converter, PathConverter):
        return "a b/ü"
    return "a b-ü"


def _flask_url(app, endpoint: str, **values) -> str:
    return Flask.url_for(app, endpoint, **values)


def test_every_rule_builds_the_url_flask_builds(app):
    rules = list(app.url_map.iter_rules())
    assert len(rules) > 100 and app.url_for is not Flask.url_for
    for base_url in ("http://localhost/", "http://localhost/mounted"):
        with app.test_request_context("/", base_url=base_url):
            for rule in rules:
                values = {name: _sample(conv) for name, conv in rule._converters.items()}
                for extra in ({}, {"page": 2, "q": "x y"}, {"q": True}, {"q": 1}):
                    want = _flask_url(app, rule.endpoint, **values, **extra)
                    # First call builds and remembers, the second answers from the memo.
                    assert url_for(rule.endpoint, **values, **extra) == want, rule
                    assert url_for(rule.endpoint, **values, **extra) == want, rule
    assert app.extensions["url_memo"]


def test_remembered_url_follows_the_script_root_and_value_types(app):
    with app.test_request_context("/"):
        assert url_for("home.index", q=1) == "/?q=1"
        assert url_for("home.index", q=True) == "/?q=True"  # 1 == True, yet another URL
        assert url_for("home.index", a=1, b=2) == "/?a=1&b=2"
        assert url_for("home.index", b=2, a=1) == "/?b=2&a=1"  # query order is kept
        assert url_for("home.index", q=0.0) == "/?q=0.0"
        assert url_for("home.index", q=-0.0) == "/?q=-0.0"  # -0.0 == 0.0, yet another URL
    with app.test_request_context("/", base_url="http://localhost/mounted"):
        assert url_for("home.index", q=1) == "/mounted/?q=1"
    with app.test_request_context("/"):
        assert url_for("home.index", _external=True) == "http://localhost/"
        assert url_for("home.index", _anchor="top") == "/#top"


def test_templates_use_the_remembered_urls(app, client, login_as):
    login_as("admin")
    memo = app.extensions["url_memo"]
    memo.clear()
    assert client.get("/admin/audit").status_code == 200
    assert ("static", "/", ("filename", str, "css/portal.css")) in memo
    assert memo[("auth.logout", "/")] == "/logout"


def test_memo_is_bounded(app, monkeypatch):
    monkeypatch.setattr(url_memo, "MAX_ENTRIES", 5)
    with app.test_request_context("/"):
        for page in range(20):
            assert url_for("home.index", page=page) == f"/?page={page}"
    assert 0 < len(app.extensions["url_memo"]) <= 5


def test_url_defaults_are_never_remembered(app):
    @app.url_defaults
    def _language(endpoint, values):
        if endpoint == "home.index":
            values.setdefault("lang", g.lang)

    for lang in ("en", "fr", "en"):
        with app.test_request_context("/"):
            g.lang = lang
            assert url_for("home.index") == f"/?lang={lang}"
    assert not any(key[0] == "home.index" for key in app.extensions["url_memo"])


def test_every_request_reads_the_user_afresh(app, client, session, login_as):
    user = login_as("admin")
    assert client.get("/admin/audit").status_code == 200
    session.get(User, user.id).name = "Renamed Person"
    session.commit()
    assert "Renamed Person" in client.get("/admin/audit").get_data(as_text=True)
    session.get(User, user.id).is_active = False
    session.commit()
    response = client.get("/admin/audit")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_a_tenant_viewer_sees_only_their_tenant(app, client, session, make_tenant, login_as):
    mine, other = make_tenant(), make_tenant()
    login_as("tenant_viewer", tenant=mine)
    assert client.get(f"/tenants/{mine.slug}").status_code == 200
    assert client.get(f"/tenants/{other.slug}").status_code in (403, 404)
