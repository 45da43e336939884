"""The certificates page and readiness check against a real Prometheus holding cert-manager's
certmanager_certificate_expiration_timestamp_seconds (backfilled with promtool), for the
certificates of infra/certificates and those the charts render with the real Helm."""
from __future__ import annotations

import re
import time

from tests.integration.slo.conftest import backfilled_prometheus  # noqa: F401 (fixture)

DAY = 86400


def _expiry(now: int, days: dict[tuple[str, str], float]) -> str:
    lines = ["# HELP certmanager_certificate_expiration_timestamp_seconds The date after "
             "which the certificate expires.",
             "# TYPE certmanager_certificate_expiration_timestamp_seconds gauge"]
    for (namespace, name), left in days.items():
        for ago in (180, 120, 60):
            lines.append(f'certmanager_certificate_expiration_timestamp_seconds{{name="{name}",'
                         f'namespace="{namespace}",issuer_name="x",issuer_kind="ClusterIssuer",'
                         f'issuer_group="cert-manager.io"}} {now + left * DAY:.0f} {now - ago}')
    return "\n".join(lines) + "\n# EOF\n"


def _row(html: str, key: str) -> str:
    row = re.search(rf'<tr data-certificate="{key}">.*?</tr>', html, re.S)
    assert row, key
    return row.group(0)


def _days_left(html: str, key: str) -> str:
    return re.search(r'class="days-left">(.*?)</td>', _row(html, key), re.S).group(1)


def test_the_page_shows_days_left_and_readiness_fails_under_fourteen_days(
        app, client, login_as, backfilled_prometheus):  # noqa: F811
    now = int(time.time())
    app.config["PROMETHEUS_URL"] = backfilled_prometheus(_expiry(now, {
        ("ingress", "meridian-ingress-tls"): 5.5, ("meridian-prod", "meridian-mtls"): 60.5,
        ("meridian-prod", "auth-mtls"): 75.5}))
    login_as("developer")
    html = client.get("/catalog/certificates").get_data(as_text=True)
    assert 'badge bad">5<' in _days_left(html, "ingress/meridian-ingress-tls")
    assert 'badge ok">60<' in _days_left(html, "meridian-prod/meridian-mtls")
    assert 'badge ok">75<' in _days_left(html, "meridian-prod/auth-mtls")
    assert _days_left(html, "platform-portal/portal-tls").strip() == "—"
    assert 'class="source">chart portal<' in _row(html, "platform-portal/portal-tls")
    assert 'class="source">file ingress.yaml<' in _row(html, "ingress/meridian-ingress-tls")
    auth = _row(html, "meridian-prod/auth-mtls")
    assert "auth.meridian-prod.svc.cluster.local" in auth and "meridian-internal-ca" in auth
    assert "90 days, renewed 30 days before expiry" in auth
    assert 'id="certificates-problems"' not in html
    assert "app.meridian.example" in html and "letsencrypt-prod" in html
    assert html.index("meridian-ingress-tls") < html.index("meridian-mtls")

    card = client.get("/catalog/services/ingress-nginx/scorecard").get_data(as_text=True)
    assert "meridian-ingress-tls expires in 5 day(s)." in card
    order = client.get("/catalog/services/order/scorecard").get_data(as_text=True)
    assert "the soonest, meridian-mtls, expires in 60 days" in order


def test_the_page_filters_by_namespace_and_refuses_odd_ones(client, login_as):
    login_as("developer")
    html = client.get("/catalog/certificates?namespace=ingress").get_data(as_text=True)
    assert "meridian-ingress-tls" in html and "meridian-mtls" not in html
    assert "No Prometheus is configured" in html
    for odd in ("Ingress", "a\x00b", "x" * 64, "ingréss", "-ingress"):
        assert client.get("/catalog/certificates", query_string={"namespace": odd}
                          ).status_code == 400


def test_a_down_prometheus_is_said_not_hidden(app, client, login_as):
    app.config["PROMETHEUS_URL"] = "http://127.0.0.1:9"
    login_as("developer")
    response = client.get("/catalog/certificates")
    assert response.status_code == 200
    assert 'id="certificates-degraded"' in response.get_data(as_text=True)


def test_tenant_viewers_do_not_see_certificates(client, login_as):
    login_as("tenant_viewer")
    assert client.get("/catalog/certificates").status_code in (403, 404)
