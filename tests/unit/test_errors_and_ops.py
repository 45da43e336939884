"""Error pages, health probes, metrics, request ids and JSON logs."""
import json
import logging
import secrets

import pytest
from flask import Blueprint
from sqlalchemy import delete

from portal import errors
from portal.app import create_app
from portal.auth import service as accounts
from portal.auth.models import User
from portal.extensions import db
from portal.observability import configure_logging
from tests.conftest import FAST_ARGON2, TEST_PASSWORD, PortalClient


@pytest.fixture
def boom_app(base_config):
    app = create_app(dict(base_config, PROPAGATE_EXCEPTIONS=False))
    bp = Blueprint("boom", __name__)

    @bp.get("/boom")
    def boom():
        raise RuntimeError("kaput")

    app.register_blueprint(bp)
    yield app
    app.extensions["portal_db"].engine.dispose()


def test_unexpected_error_is_a_readable_500_page_and_fragment(boom_app):
    client = boom_app.test_client()
    page = client.get("/boom", headers={"X-Request-ID": "req-abc-123"})
    assert page.status_code == 500
    text = page.get_data(as_text=True)
    assert "Something went wrong" in text and "req-abc-123" in text and "kaput" not in text
    fragment = client.get("/boom", headers={"HX-Request": "true"})
    assert fragment.status_code == 500 and "<html" not in fragment.get_data(as_text=True)
    assert fragment.headers["HX-Retarget"] == "#errors"


def test_unexpected_error_page_still_knows_the_signed_in_user(boom_app):
    """The 500 handler rolls the session back, which expires the user the nav reads."""
    email = f"boom-{secrets.token_hex(4)}@test.example"
    with boom_app.app_context(), db.session_scope() as session:
        accounts.create(session=session, email=email, name="Boom Tester",
                        password=TEST_PASSWORD, roles=["developer"], params=FAST_ARGON2)
    boom_app.test_client_class = PortalClient
    client = boom_app.test_client()
    try:
        assert client.post_form("/login", {"email": email,
                                           "password": TEST_PASSWORD}).status_code == 303
        page = client.get("/boom")
        text = page.get_data(as_text=True)
        assert page.status_code == 500 and "Something went wrong" in text
        assert "Boom Tester" in text and "Sign out" in text  # the whole page, nav included
    finally:
        with boom_app.app_context(), db.session_scope() as session:
            session.execute(delete(User).where(User.email == email))


def test_error_page_that_cannot_render_falls_back_to_plain_text(boom_app, monkeypatch):
    monkeypatch.setattr(errors, "render_error", lambda status: 1 / 0)
    page = boom_app.test_client().get("/boom", headers={"X-Request-ID": "req-plain-1"})
    assert page.status_code == 500 and page.mimetype == "text/plain"
    assert page.get_data(as_text=True) == "Something went wrong (request req-plain-1)."


def test_404_page_and_fragment(client, login_as):
    login_as("developer")
    assert "Not found" in client.get("/catalog/services/nope").get_data(as_text=True)
    fragment = client.htmx("GET", "/catalog/services/nope")
    assert fragment.status_code == 404 and "<html" not in fragment.get_data(as_text=True)


def test_bad_filter_values_are_400_with_a_message(client, login_as):
    login_as("manager")
    response = client.get("/catalog/?tier=9")
    assert response.status_code == 400
    assert "Tier is 1, 2 or 3." in response.get_data(as_text=True)
    assert "Unknown plan" in client.get("/tenants/?plan=gold").get_data(as_text=True)


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json == {"status": "ok"}


def test_readyz_with_real_database_and_broker(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json["checks"] == {"database": "ok", "broker": "ok"}


def test_readyz_names_the_broker_when_it_is_down(base_config):
    app = create_app(dict(base_config, CELERY_BROKER_URL="amqp://guest:guest@127.0.0.1:1//"))
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    body = response.json
    assert body["status"] == "unavailable" and body["checks"]["database"] == "ok"
    assert body["checks"]["broker"].startswith("error:")
    app.extensions["portal_db"].engine.dispose()


def test_readyz_names_the_database_when_it_is_down(base_config):
    app = create_app(dict(base_config,
                          DATABASE_URL="postgresql+psycopg://postgres@127.0.0.1:1/none"))
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.json["checks"]["database"].startswith("error:")
    assert response.json["checks"]["broker"] == "ok"


def test_metrics_count_requests_per_endpoint(client):
    client.get("/healthz")
    client.get("/healthz")
    client.get("/does-not-exist")
    text = client.get("/metrics").get_data(as_text=True)
    assert 'portal_http_requests_total{endpoint="ops.healthz",method="GET",status="200"} 2.0' in text
    assert 'endpoint="unmatched",method="GET",status="404"' in text
    assert "portal_http_request_duration_seconds_bucket" in text


def test_request_id_is_echoed_or_generated(client):
    assert client.get("/healthz", headers={"X-Request-ID": "abc-1"}).headers["X-Request-ID"] == "abc-1"
    generated = client.get("/healthz", headers={"X-Request-ID": "bad id; drop"})
    assert len(generated.headers["X-Request-ID"]) == 32


def test_json_logs_carry_the_request_id(client, capsys):
    configure_logging("INFO", "json")
    try:
        client.get("/login", headers={"X-Request-ID": "trace-42"})
        lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()
                 if line.startswith("{")]
    finally:
        logging.getLogger().handlers.clear()
    access = [line for line in lines if line["logger"] == "portal.access"]
    assert access and access[-1]["request_id"] == "trace-42"
    assert access[-1]["status"] == 200 and access[-1]["path"] == "/login"


def test_plotly_js_comes_from_the_installed_wheel(client):
    from plotly.offline import get_plotlyjs, get_plotlyjs_version
    response = client.get(f"/vendor/plotly.min.js?v={get_plotlyjs_version()}")
    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    assert "max-age=31536000" in response.headers["Cache-Control"]
    assert response.get_data(as_text=True)[:2000] == get_plotlyjs()[:2000]
