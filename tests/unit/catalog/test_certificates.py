"""The certificate inventory read from cert-manager manifests and from the charts rendered
with the real Helm (the library chart's Certificate template), and its readiness verdict."""
from __future__ import annotations

import re
import shutil
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from portal.catalog import certificates
from portal.integrations import helm

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def test_the_repository_manifests_list_every_certificate_and_nothing_else():
    found = certificates.from_manifests()
    assert [(c.namespace, c.name) for c in found] == [
        ("ingress", "meridian-ingress-tls"), ("meridian-prod", "meridian-mtls")]
    ingress = found[0]
    assert ingress.dns_names == ("app.meridian.example", "api.meridian.example")
    assert (ingress.issuer, ingress.issuer_kind, ingress.secret_name) == (
        "letsencrypt-prod", "ClusterIssuer", "meridian-ingress-tls")
    assert (ingress.source, ingress.source_kind) == ("ingress.yaml", "file")
    assert (ingress.duration, ingress.renew_before, ingress.expires_at) == ("2160h", "720h",
                                                                           None)


def test_other_kinds_and_other_api_groups_are_left_out(tmp_path):
    (tmp_path / "mixed.yaml").write_text(
        "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\n---\n"
        "apiVersion: example.com/v1\nkind: Certificate\nmetadata: {name: other}\n---\n"
        "---\n"
        "apiVersion: cert-manager.io/v1\nkind: Certificate\n"
        "metadata: {name: web, namespace: shop}\n"
        "spec: {secretName: web-tls, dnsNames: [shop.example], issuerRef: {name: ca}}\n")
    (found,) = certificates.from_manifests(tmp_path)
    assert (found.name, found.namespace, found.issuer, found.issuer_kind) == (
        "web", "shop", "ca", "Issuer")


def _inventory(*expiries) -> certificates.Inventory:
    base = certificates.Certificate("c", "meridian-prod", ("a.example",), "ca", "Issuer",
                                    "c-tls", "x.yaml")
    return certificates.Inventory(
        [replace(base, name=f"c{i}", expires_at=e) for i, e in enumerate(expiries)],
        measured=True)


def test_days_left_and_the_fourteen_day_threshold():
    cert = _inventory(NOW + timedelta(days=13, hours=23)).certificates[0]
    assert cert.days_left(NOW) == 13 and cert.expiring(NOW)
    cert = _inventory(NOW + timedelta(days=14)).certificates[0]
    assert cert.days_left(NOW) == 14 and not cert.expiring(NOW)
    cert = _inventory(NOW - timedelta(hours=1)).certificates[0]
    assert cert.days_left(NOW) == -1 and cert.expiring(NOW)


def test_readiness_fails_on_a_certificate_under_fourteen_days():
    status, detail = certificates.readiness(
        inventory=_inventory(NOW + timedelta(days=40), NOW + timedelta(days=3)),
        namespace="meridian-prod", now=NOW)
    assert status == "fail" and detail == "c1 expires in 3 day(s)."
    status, detail = certificates.readiness(
        inventory=_inventory(NOW + timedelta(days=40), NOW + timedelta(days=20)),
        namespace="meridian-prod", now=NOW)
    assert status == "pass" and "c1, expires in 20 days" in detail


def test_readiness_has_nothing_to_judge_without_certificates_or_expiry():
    assert certificates.readiness(inventory=_inventory(NOW), namespace="other",
                                  now=NOW)[0] == "na"
    assert certificates.readiness(inventory=_inventory(None), namespace="meridian-prod",
                                  now=NOW)[0] == "na"


CHARTS = Path(__file__).parent / "charts"
DAY_HOURS = 24


def test_the_charts_render_their_certificates_and_the_inventory_lists_both_sources():
    rendered, problems = certificates.from_charts()
    assert problems == []
    by_key = {(c.namespace, c.name): c for c in rendered}
    assert set(by_key) == {("platform-portal", "portal-tls"),
                           ("meridian-prod", "api-gateway-mtls"), ("meridian-prod", "auth-mtls")}
    portal = by_key[("platform-portal", "portal-tls")]
    assert (portal.source_kind, portal.source, portal.secret_name) == ("chart", "portal",
                                                                       "portal-tls")
    assert portal.dns_names == ("portal.meridian.example",)
    assert (portal.issuer, portal.issuer_kind) == ("letsencrypt-prod", "ClusterIssuer")
    auth = by_key[("meridian-prod", "auth-mtls")]
    assert auth.dns_names == ("auth", "auth.meridian-prod", "auth.meridian-prod.svc",
                              "auth.meridian-prod.svc.cluster.local")
    assert auth.issuer == "meridian-internal-ca"
    assert auth.validity == "90 days, renewed 30 days before expiry"
    listed, problems = certificates.declared()
    assert problems == [] and len(listed) == len({(c.namespace, c.name) for c in listed})
    assert {c.source_kind for c in listed} == {"chart", "file"}


def _hours(go_duration: str) -> int:
    return int(re.fullmatch(r"(\d+)h", go_duration).group(1))


def test_every_certificate_renews_before_the_expiry_alert_fires():
    """renewBefore above CertificateExpiringSoon's 14 days, or each renewal pages first."""
    listed, _problems = certificates.declared()
    assert len(listed) >= 5
    for cert in listed:
        assert _hours(cert.renew_before) > certificates.EXPIRING_DAYS * DAY_HOURS, cert
        assert _hours(cert.duration) > _hours(cert.renew_before), cert


def test_a_certificate_declared_twice_or_a_broken_chart_is_reported(tmp_path):
    (tmp_path / "dup.yaml").write_text(
        "apiVersion: cert-manager.io/v1\nkind: Certificate\n"
        "metadata: {name: portal-tls, namespace: platform-portal}\n"
        "spec: {secretName: portal-tls, dnsNames: [portal.meridian.example], "
        "issuerRef: {name: letsencrypt-prod, kind: ClusterIssuer}}\n")
    listed, problems = certificates.declared(root=tmp_path)
    assert [c.source_kind for c in listed if c.name == "portal-tls"] == ["chart", "file"]
    assert problems == ["platform-portal/portal-tls is declared twice: by chart portal and "
                        "by file dup.yaml."]
    charts = tmp_path / "charts"
    shutil.copytree(CHARTS / "broken", charts / "broken")  # renders, no Certificate
    shutil.copytree(CHARTS / "broken", charts / "failing")
    (charts / "failing" / "templates" / "cert.yaml").write_text(
        '{{ fail "no issuer for this chart" }}\n')
    inventory = certificates.inventory(client=None, root=tmp_path, charts_root=charts)
    assert [c.source for c in inventory.certificates] == ["dup.yaml"]
    (problem,) = inventory.problems
    assert problem.startswith("infra/helm/failing does not render: ")
    assert "no issuer for this chart" in problem


@pytest.mark.parametrize(("values", "expected"), [
    ("certificates:\n  ingressTLS:\n    enabled: true\n    dnsNames: [orders.example]\n"
     "    issuer: letsencrypt-staging\n    issuerKind: Issuer\n    renewBefore: 480h\n",
     {"order-tls": ("orders.example", "letsencrypt-staging", "Issuer", "480h")}),
    ("certificates:\n  mtls:\n    enabled: true\n    issuer: meridian-internal-ca\n"
     "  ingressTLS:\n    enabled: false\n",
     {"order-mtls": ("order", "meridian-internal-ca", "ClusterIssuer", "720h")}),
    ("certificates: {}\n", {}),
])
def test_the_library_renders_certificates_only_where_the_values_enable_them(tmp_path, values,
                                                                          expected):
    extra = tmp_path / "values.yaml"
    extra.write_text(values)
    objects = helm.template(certificates.CHARTS_ROOT / "order", release="order",
                            namespace="meridian-prod", values=(extra,))
    found = {o["metadata"]["name"]: o["spec"] for o in objects if o["kind"] == "Certificate"}
    assert {name: (spec["dnsNames"][0], spec["issuerRef"]["name"], spec["issuerRef"]["kind"],
                   spec["renewBefore"]) for name, spec in found.items()} == expected
    for name, spec in found.items():
        assert spec["secretName"] == name and spec["issuerRef"]["group"] == "cert-manager.io"


def test_the_library_refuses_an_ingress_certificate_without_hosts(tmp_path):
    extra = tmp_path / "values.yaml"
    extra.write_text("certificates:\n  ingressTLS: {enabled: true, issuer: letsencrypt-prod}\n")
    with pytest.raises(helm.HelmError, match="certificates.ingressTLS.dnsNames is required"):
        helm.template(certificates.CHARTS_ROOT / "order", release="order",
                      namespace="meridian-prod", values=(extra,))


def test_durations_read_in_days_or_hours():
    assert certificates.go_duration_text("2160h") == "90 days"
    assert certificates.go_duration_text("720h0m0s") == "30 days"
    assert certificates.go_duration_text("36h") == "36 hours"
    assert certificates.go_duration_text("90m") == "90m"
    assert certificates.go_duration_text("P90D") == "P90D"
    base = certificates.Certificate("c", "ns", (), "ca", "Issuer", "c", "x.yaml")
    assert base.validity == "90 days, renewed at 2/3 of it"
