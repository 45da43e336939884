"""The certificate inventory read from cert-manager manifests, and its readiness verdict."""
from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from portal.catalog import certificates

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def test_the_repository_manifests_list_every_certificate_and_nothing_else():
    found = certificates.from_manifests()
    assert [(c.namespace, c.name) for c in found] == [
        ("ingress", "meridian-ingress-tls"), ("meridian-prod", "meridian-mtls"),
        ("platform-portal", "portal-tls")]
    ingress = found[0]
    assert ingress.dns_names == ("app.meridian.example", "api.meridian.example")
    assert (ingress.issuer, ingress.issuer_kind, ingress.secret_name) == (
        "letsencrypt-prod", "ClusterIssuer", "meridian-ingress-tls")
    assert ingress.source == "ingress.yaml" and ingress.expires_at is None


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
