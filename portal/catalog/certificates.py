"""TLS certificate inventory: cert-manager `Certificate` resources kept in infra/certificates/
and those the charts of infra/helm/ render (with the real Helm, each render cached until a
chart file changes), with their expiry as cert-manager reports it to Prometheus when
Prometheus is configured."""
from __future__ import annotations

import functools
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml
from cachetools import LRUCache
from flask import current_app, has_app_context

from portal.catalog import file_stamps
from portal.catalog.helm import ChartError, load_chart
from portal.config import PROJECT_ROOT
from portal.integrations.prometheus import (
    PrometheusClient,
    PrometheusRejected,
    PrometheusUnavailable,
)

MANIFESTS_ROOT = PROJECT_ROOT / "infra" / "certificates"
CHARTS_ROOT = PROJECT_ROOT / "infra" / "helm"
EXPIRY_METRIC = "certmanager_certificate_expiration_timestamp_seconds"
EXPIRING_DAYS = 14  # the threshold of CertificateExpiringSoon in certificates_rules.yml
EXPIRY_MAX_AGE = 60.0  # seconds an expiry answer is reused (scorecards evaluate per page)


@dataclass(frozen=True)
class Certificate:
    """One cert-manager Certificate, where it is declared (`source_kind` "chart": the chart
    `source` renders it; "file": the manifest `source` of infra/certificates) and, when
    measured, when it expires."""
    name: str
    namespace: str
    dns_names: tuple[str, ...]
    issuer: str
    issuer_kind: str
    secret_name: str
    source: str
    source_kind: str = "file"
    duration: str | None = None
    renew_before: str | None = None
    expires_at: datetime | None = None

    @property
    def validity(self) -> str:
        """"90 days, renewed 30 days before expiry" from duration and renewBefore, with
        cert-manager's defaults where they are not set (90 days, renewal at 2/3 of it)."""
        duration = go_duration_text(self.duration) if self.duration else "90 days"
        if self.renew_before:
            return f"{duration}, renewed {go_duration_text(self.renew_before)} before expiry"
        return f"{duration}, renewed at 2/3 of it"

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
    """Every certificate; `measured` when Prometheus answered, `error` when it failed;
    `problems`: charts that do not render, certificates declared twice."""
    certificates: list[Certificate] = field(default_factory=list)
    measured: bool = False
    error: str | None = None
    problems: list[str] = field(default_factory=list)

    def in_namespace(self, namespace: str | None) -> list[Certificate]:
        """The certificates of one namespace."""
        return [c for c in self.certificates if c.namespace == namespace]


_GO_DURATION = re.compile(r"^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")


def go_duration_text(value: str) -> str:
    """A Go duration as cert-manager takes it ("2160h", "720h0m0s") in days or hours; the
    value itself when it is something else."""
    match = _GO_DURATION.match(value or "")
    if not value or not match:
        return value
    seconds = sum(int(n or 0) * unit for n, unit in zip(match.groups(), (3600, 60, 1),
                                                       strict=True))
    if seconds and seconds % 86400 == 0:
        return f"{seconds // 86400} days"
    if seconds and seconds % 3600 == 0:
        return f"{seconds // 3600} hours"
    return value


def _certificate(doc: object, *, source: str, source_kind: str) -> Certificate | None:
    """The Certificate a manifest document declares, None for any other document."""
    if not isinstance(doc, dict) or doc.get("kind") != "Certificate" or \
            not str(doc.get("apiVersion", "")).startswith("cert-manager.io/"):
        return None
    meta, spec = doc.get("metadata") or {}, doc.get("spec") or {}
    issuer = spec.get("issuerRef") or {}
    return Certificate(
        name=str(meta.get("name", "")), namespace=str(meta.get("namespace", "default")),
        dns_names=tuple(str(n) for n in spec.get("dnsNames") or ()),
        issuer=str(issuer.get("name", "")), issuer_kind=str(issuer.get("kind", "Issuer")),
        secret_name=str(spec.get("secretName", "")), source=source, source_kind=source_kind,
        duration=str(spec["duration"]) if spec.get("duration") else None,
        renew_before=str(spec["renewBefore"]) if spec.get("renewBefore") else None)


def from_manifests(root: Path = MANIFESTS_ROOT) -> list[Certificate]:
    """The Certificate resources of the YAML manifests under `root`, by namespace and name."""
    files = sorted(list(root.glob("*.yaml")) + list(root.glob("*.yml")))
    return list(_parsed(tuple((p, p.stat().st_mtime_ns) for p in files)))


@functools.lru_cache(maxsize=8)
def _parsed(files: tuple[tuple[Path, int], ...]) -> tuple[Certificate, ...]:
    found = []
    for path, _ in files:
        for doc in yaml.safe_load_all(path.read_text()):
            cert = _certificate(doc, source=path.name, source_kind="file")
            if cert is not None:
                found.append(cert)
    return tuple(sorted(found, key=lambda c: (c.namespace, c.name)))


def _chart_dirs(root: Path) -> list[Path]:
    """The application charts of `root` (a library chart renders nothing by itself)."""
    found = []
    for meta in sorted(root.glob("*/Chart.yaml")):
        try:
            chart = yaml.safe_load(meta.read_text()) or {}
        except (OSError, yaml.YAMLError):
            chart = {}  # load_chart reports the broken Chart.yaml
        if not isinstance(chart, dict) or chart.get("type") != "library":
            found.append(meta.parent)
    return found


def _rendered(path: Path) -> tuple[list[Certificate], str | None]:
    try:
        chart = load_chart(path)  # cached by portal.catalog.helm until a chart file changes
    except ChartError as exc:
        return [], f"infra/helm/{path.name} does not render: {exc}"
    return [c for doc in chart.objects
            if (c := _certificate(doc, source=chart.name, source_kind="chart"))], None


def from_charts(root: Path = CHARTS_ROOT) -> tuple[list[Certificate], list[str]]:
    """The Certificates the charts under `root` render with the real Helm, by namespace and
    name, and why any chart could not be rendered."""
    # Every service page's scorecard asks: walking and reading every chart on each view
    # cost more than the rest of the page. What the charts render changes only with one of
    # their files, so it is kept by the stamp of the whole tree (which includes the
    # vendored library each chart renders with).
    stamp = file_stamps.of_tree(root)
    with _charts_lock:
        kept = _charts_seen.get(root)
    if kept is not None and kept[0] == stamp:
        return list(kept[1]), []
    found, errors = _render_charts(root)
    if not errors:  # a failed render may be Helm's passing trouble: tried again next time
        with _charts_lock:
            _charts_seen[root] = (stamp, tuple(found))
    return found, errors


_charts_seen: LRUCache[Path, tuple[file_stamps.Stamp, tuple[Certificate, ...]]] = LRUCache(8)
_charts_lock = threading.Lock()


def _render_charts(root: Path) -> tuple[list[Certificate], list[str]]:
    charts = _chart_dirs(root)
    if not charts:
        return [], []
    # A cold render is a helm process per chart (a fraction of a second each): run a few at
    # once; a warm one is a lookup in load_chart's cache.
    with ThreadPoolExecutor(max_workers=4, thread_name_prefix="helm-render") as pool:
        results = list(pool.map(_rendered, charts))
    found = sorted((c for certs, _ in results for c in certs),
                   key=lambda c: (c.namespace, c.name))
    return found, [error for _, error in results if error]


def declared(*, root: Path = MANIFESTS_ROOT, charts_root: Path | None = CHARTS_ROOT
             ) -> tuple[list[Certificate], list[str]]:
    """Every Certificate of the manifest files and of the charts, by namespace and name, and
    the problems found: charts that do not render, a certificate declared twice."""
    listed = list(from_manifests(root))
    problems: list[str] = []
    if charts_root is not None:
        rendered, problems = from_charts(charts_root)
        listed += rendered
    listed.sort(key=lambda c: (c.namespace, c.name, c.source_kind))
    seen: dict[tuple[str, str], Certificate] = {}
    for cert in listed:
        first = seen.setdefault((cert.namespace, cert.name), cert)
        if first is not cert:
            problems.append(f"{cert.namespace}/{cert.name} is declared twice: by "
                            f"{first.source_kind} {first.source} and by {cert.source_kind} "
                            f"{cert.source}.")
    return listed, problems


def expiry(client: PrometheusClient) -> dict[tuple[str, str], datetime]:
    """When each certificate expires, by (namespace, name), as cert-manager exports it."""
    found = {}
    for series in client.query(f"max by (namespace, name) ({EXPIRY_METRIC})"):
        value = series.points[-1][1]
        if value == value and abs(value) < 1e11:  # NaN or absurd values are not a date
            found[(series.labels.get("namespace", ""), series.labels.get("name", ""))] = \
                datetime.fromtimestamp(value, UTC)
    return found


def inventory(*, client: PrometheusClient | None, root: Path = MANIFESTS_ROOT,
              charts_root: Path | None = CHARTS_ROOT) -> Inventory:
    """The certificates of the manifests and the charts (none from charts when `charts_root`
    is None), with their expiry when `client` answers."""
    listed, problems = declared(root=root, charts_root=charts_root)
    if client is None:
        return Inventory(listed, problems=problems)
    try:
        measured = _cached_expiry(client)
    except (PrometheusUnavailable, PrometheusRejected) as exc:
        return Inventory(listed, error=str(exc), problems=problems)
    return Inventory([_with_expiry(c, measured.get((c.namespace, c.name))) for c in listed],
                     measured=True, problems=problems)


def current(root: Path = MANIFESTS_ROOT, charts_root: Path | None = CHARTS_ROOT) -> Inventory:
    """The inventory with the app's Prometheus (PROMETHEUS_URL), or unmeasured outside an app."""
    return inventory(client=configured_client(), root=root, charts_root=charts_root)


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
    known = [(c, c.expires_at) for c in mine if c.expires_at is not None]
    if not known:
        return "na", (f"{len(mine)} certificate(s); expiry unknown without Prometheus and "
                      "cert-manager's metrics.")
    soonest = min(known, key=lambda pair: pair[1])[0]
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
