"""TLS certificate inventory: cert-manager `Certificate` resources kept in infra/certificates/,
with their expiry as cert-manager reports it to Prometheus when Prometheus is configured."""
from __future__ import annotations

import functools
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml
from flask import current_app, has_app_context

from portal.config import PROJECT_ROOT
from portal.integrations.prometheus import (
    PrometheusClient,
    PrometheusRejected,
    PrometheusUnavailable,
)

MANIFESTS_ROOT = PROJECT_ROOT / "infra" / "certificates"
EXPIRY_METRIC = "certmanager_certificate_expiration_timestamp_seconds"
EXPIRING_DAYS = 14  # the threshold of CertificateExpiringSoon in certificates_rules.yml
EXPIRY_MAX_AGE = 60.0  # seconds an expiry answer is reused (scorecards evaluate per page)


@dataclass(frozen=True)
class Certificate:
    """One cert-manager Certificate and, when measured, when it expires."""
    name: str
    namespace: str
    dns_names: tuple[str, ...]
    issuer: str
    issuer_kind: str
    secret_name: str
    source: str
    expires_at: datetime | None = None

    def days_left(self, now: datetime) -> int | None:
        """Whole days until expiry (negative once expired); None when not measured."""
        if self.expires_at is None:
            return None
        return (self.expires_at - now) // timedelta(days=1)

    def expiring(self, now: datetime) -> bool:
        """True when it expires within EXPIRING_DAYS (or has expired)."""
        return self.expires_at is not None and \
            self.expires_at - now < timedelta(days=EXPIRING_DAYS)


@dataclass
class Inventory:
    """Every certificate; `measured` when Prometheus answered, `error` when it failed."""
    certificates: list[Certificate] = field(default_factory=list)
    measured: bool = False
    error: str | None = None

    def in_namespace(self, namespace: str | None) -> list[Certificate]:
        """The certificates of one namespace."""
        return [c for c in self.certificates if c.namespace == namespace]


def from_manifests(root: Path = MANIFESTS_ROOT) -> list[Certificate]:
    """The Certificate resources of the YAML manifests under `root`, by namespace and name."""
    files = sorted(list(root.glob("*.yaml")) + list(root.glob("*.yml")))
    return list(_parsed(tuple((p, p.stat().st_mtime_ns) for p in files)))


@functools.lru_cache(maxsize=8)
def _parsed(files: tuple[tuple[Path, int], ...]) -> tuple[Certificate, ...]:
    found = []
    for path, _ in files:
        for doc in yaml.safe_load_all(path.read_text()):
            if not isinstance(doc, dict) or doc.get("kind") != "Certificate" or \
                    not str(doc.get("apiVersion", "")).startswith("cert-manager.io/"):
                continue
            meta, spec = doc.get("metadata") or {}, doc.get("spec") or {}
            issuer = spec.get("issuerRef") or {}
            found.append(Certificate(
                name=str(meta.get("name", "")), namespace=str(meta.get("namespace", "default")),
                dns_names=tuple(str(n) for n in spec.get("dnsNames") or ()),
                issuer=str(issuer.get("name", "")), issuer_kind=str(issuer.get("kind", "Issuer")),
                secret_name=str(spec.get("secretName", "")), source=path.name))
    return tuple(sorted(found, key=lambda c: (c.namespace, c.name)))


def expiry(client: PrometheusClient) -> dict[tuple[str, str], datetime]:
    """When each certificate expires, by (namespace, name), as cert-manager exports it."""
    found = {}
    for series in client.query(f"max by (namespace, name) ({EXPIRY_METRIC})"):
        value = series.points[-1][1]
        if value == value and abs(value) < 1e11:  # NaN or absurd values are not a date
            found[(series.labels.get("namespace", ""), series.labels.get("name", ""))] = \
                datetime.fromtimestamp(value, UTC)
    return found


def inventory(*, client: PrometheusClient | None, root: Path = MANIFESTS_ROOT) -> Inventory:
    """The certificates of the manifests, with their expiry when `client` answers."""
    listed = from_manifests(root)
    if client is None:
        return Inventory(listed)
    try:
        measured = _cached_expiry(client)
    except (PrometheusUnavailable, PrometheusRejected) as exc:
        return Inventory(listed, error=str(exc))
    return Inventory([_with_expiry(c, measured.get((c.namespace, c.name))) for c in listed],
                     measured=True)


def current(root: Path = MANIFESTS_ROOT) -> Inventory:
    """The inventory with the app's Prometheus (PROMETHEUS_URL), or unmeasured outside an app."""
    return inventory(client=configured_client(), root=root)


def configured_client() -> PrometheusClient | None:
    """A client for PROMETHEUS_URL of the current app, None when it is not set."""
    url = current_app.config.get("PROMETHEUS_URL") if has_app_context() else None
    if not url:
        return None
    return PrometheusClient(url, timeout=current_app.config.get("PROMETHEUS_TIMEOUT", 5.0),
                            retries=0)


def readiness(*, inventory: Inventory, namespace: str | None,
              now: datetime | None = None) -> tuple[str, str]:
    """The readiness check of a catalog entry: its namespace's certificates are valid for
    EXPIRING_DAYS more days ("pass"/"fail"), or there is nothing to judge ("na")."""
    now = now or datetime.now(UTC)
    mine = inventory.in_namespace(namespace)
    if not mine:
        return "na", f"No cert-manager Certificate in namespace {namespace or '—'}."
    expiring = [f"{c.name} expires in {c.days_left(now)} day(s)" for c in mine
                if c.expiring(now)]
    if expiring:
        return "fail", "; ".join(expiring) + "."
    known = [c for c in mine if c.expires_at is not None]
    if not known:
        return "na", (f"{len(mine)} certificate(s); expiry unknown without Prometheus and "
                      "cert-manager's metrics.")
    soonest = min(known, key=lambda c: c.expires_at)
    return "pass", (f"{len(mine)} certificate(s); the soonest, {soonest.name}, expires in "
                    f"{soonest.days_left(now)} days.")


def _with_expiry(cert: Certificate, expires_at: datetime | None) -> Certificate:
    return Certificate(**{**cert.__dict__, "expires_at": expires_at})


_cache: dict[str, tuple[float, dict | Exception]] = {}
_cache_lock = threading.Lock()


def _cached_expiry(client: PrometheusClient) -> dict[tuple[str, str], datetime]:
    # Every service page evaluates its scorecard: one Prometheus query a minute, not one
    # per page view, and while Prometheus is down not one timeout per page view either.
    with _cache_lock:
        hit = _cache.get(client.base_url)
    if hit is None or time.monotonic() - hit[0] >= EXPIRY_MAX_AGE:
        try:
            answer: dict | Exception = expiry(client)
        except (PrometheusUnavailable, PrometheusRejected) as exc:
            answer = exc
        hit = (time.monotonic(), answer)
        with _cache_lock:
            _cache[client.base_url] = hit
    if isinstance(hit[1], Exception):
        raise hit[1]
    return hit[1]
