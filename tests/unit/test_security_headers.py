"""Security headers on every response, no-store on signed-in pages, HSTS over HTTPS, no
server version from the development server, and charts embedded without inline script."""
import os
import re
import signal
import subprocess
import sys
import time

import requests

from portal.config import PROJECT_ROOT
from portal.rendering import figure_html
from portal.security.headers import CSP
from tests.servers import free_port


def _assert_common(response):
    assert response.headers["Content-Security-Policy"] == CSP
    assert "script-src 'self';" in CSP and "frame-ancestors 'none'" in CSP
    assert "unsafe-eval" not in CSP and "'unsafe-inline'" not in CSP.split("script-src")[1] \
        .split(";")[0]
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"


def test_anonymous_pages_errors_and_static_files_carry_the_headers(client):
    for url in ("/login", "/no-such-page", "/static/js/portal.js"):
        response = client.get(url)
        _assert_common(response)
        assert "Strict-Transport-Security" not in response.headers  # plain HTTP


def test_hsts_only_over_https(client):
    response = client.get("/login", base_url="https://portal.test")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")


def test_signed_in_pages_are_not_stored_but_static_files_are(client, login_as):
    login_as("admin")
    page = client.get("/admin/audit")
    _assert_common(page)
    assert page.headers["Cache-Control"] == "no-store"
    assert "no-store" not in client.get("/static/js/portal.js").headers.get("Cache-Control", "")


def test_tenant_dashboard_is_not_stored(client, login_as, make_tenant):
    tenant = make_tenant()
    login_as("tenant_viewer", tenant=tenant)
    response = client.get(f"/tenants/{tenant.slug}")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"


def test_pages_have_no_inline_script(client, login_as):
    login_as("admin")
    for url in ("/login", "/", "/admin/audit", "/oncall/", "/incidents/"):
        html = client.get(url).get_data(as_text=True)
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), url
        assert not re.search(r"\son[a-z]+\s*=", html), url


def test_figures_travel_as_data_not_script():
    html = figure_html({"data": [{"type": "bar", "x": ["</script><script>x()"], "y": [1]}],
                        "layout": {}}, div_id="chart-x")
    assert "<script" not in html and 'id="chart-x"' in html
    assert "data-plotly-figure=" in html and html.count("<") == 2  # only <div> and </div>


def test_gunicorn_announces_no_version_and_sends_the_headers(base_config, tmp_path):
    """The production server as configured by gunicorn.conf.py, started for real."""
    port = free_port()
    env = {**os.environ, "GUNICORN_BIND": f"127.0.0.1:{port}", "GUNICORN_WORKERS": "1",
           "DATABASE_URL": base_config["DATABASE_URL"], "SECRET_KEY": "s" * 40,
           "INSTANCE_DIR": str(tmp_path), "CELERY_BROKER_URL": "memory://",
           "LOG_FORMAT": "text"}
    server = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py",
                               "portal:create_app()"], env=env, cwd=PROJECT_ROOT,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                response = requests.get(f"http://127.0.0.1:{port}/login", timeout=30)
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline and server.poll() is None
                time.sleep(0.3)
    finally:
        server.send_signal(signal.SIGINT)  # gunicorn's quick shutdown
        server.wait(30)
    assert response.status_code == 200
    assert response.headers["Server"] == "gunicorn"  # no version number
    assert response.headers["Content-Security-Policy"] == CSP
