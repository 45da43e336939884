"""The status overview on the home page: headline figures, the fleet and recent releases.

One statement whatever the number of services, SLOs, samples or deploys: the figures as
aggregates (availability over 30 days and traffic over the last day from the hourly SLO
rollups, the main service's running version from its last deploy), the fleet and the
release timeline each under a LIMIT. The p99 latency comes from the main service's own
/metrics, read by a background thread at most once per LATENCY_CACHE_SECONDS: a page view
shows the last reading and never waits on the service. Replica counts come from the prod values files of
the GitOps repo, parsed again only when a file changes.
"""
from __future__ import annotations

import logging
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import yaml
from flask import current_app
from sqlalchemy import bindparam, text
from sqlalchemy.orm import Session

from portal.config import PROJECT_ROOT
from portal.db import utcnow
from portal.integrations import services as service_probe
from portal.selfservice.engines import gitops_path
from portal.selfservice.models import FLAGGED_ROLLOUTS
from portal.tenants.models import PLANS

log = logging.getLogger(__name__)

MAIN_SERVICE = "order"          # the service whose version and latency head the overview
FLEET_LIMIT = 50
TIMELINE_LIMIT = 20
AVAILABILITY_WINDOW = timedelta(days=30)
TRAFFIC_WINDOW = timedelta(days=1)
LATENCY_CACHE_SECONDS = 30
RELEASE_TEMPLATES = ("service-deploy", "service-rollback")
# Fleet status from the stored error-budget policy state: an exhausted budget freezes prod
# deploys unless a manager override is in force, in which case the service is only degraded.
STATUS_ORDER = {"frozen": 0, "degraded": 1, "healthy": 2}


@dataclass(frozen=True)
class Figures:
    availability: float | None      # percent over 30 days, None without traffic
    daily_requests: int             # events counted over the last 24 hours
    error_rate: float | None        # percent over the last 24 hours
    p99_ms: float | None            # from the main service's /metrics
    main_service: str
    version: str | None             # what the last succeeded prod deploy/rollback left
    version_at: datetime | None


@dataclass(frozen=True)
class FleetRow:
    slug: str
    name: str
    team: str
    tier: int
    replicas: int | None
    status: str


@dataclass(frozen=True)
class Release:
    at: datetime
    service_slug: str
    service: str
    action: str
    environment: str
    version: str | None
    who: str
    outcome: str


@dataclass(frozen=True)
class Overview:
    figures: Figures
    fleet: list[FleetRow]
    fleet_total: int                # services in the catalog (the developer card's count)
    releases: list[Release]
    tenant_counts: dict[str, int]   # tenants per plan (the manager's badges)
    late_action_items: int          # not done and past due (the incidents panel's count)
    team_slugs: list[str]           # the viewer's catalog teams (their services' section)


# One statement with three parts. Figures: each service's first availability SLO (no
# latency threshold), so a service with several SLOs is not counted twice, summed over the
# hourly rollups of both windows, and the version the main service's last succeeded prod
# deploy or rollback left. Fleet and releases: bounded by LIMIT, returned as JSON arrays in
# their order. The home's other internal counts (services, tenants per plan, late action
# items) and the viewer's team memberships ride along, so the page pays one statement for
# all of it.
_OVERVIEW = text("""
WITH main_slos AS (
    SELECT DISTINCT ON (service_id) id FROM slo_specs
    WHERE latency_threshold_ms IS NULL ORDER BY service_id, id),
hours AS (
    SELECT h.hour, h.good, h.total FROM slo_sample_hours h JOIN main_slos m ON m.id = h.slo_id
    WHERE h.hour >= :since_avail AND h.hour < :until),
traffic AS (
    SELECT coalesce(sum(good), 0) AS good_30d, coalesce(sum(total), 0) AS total_30d,
           coalesce(sum(good) FILTER (WHERE hour >= :since_day), 0) AS good_1d,
           coalesce(sum(total) FILTER (WHERE hour >= :since_day), 0) AS total_1d
    FROM hours),
main AS (
    SELECT coalesce(j.result ->> 'tag', j.params ->> 'image_tag') AS version,
           j.finished_at AS at, s.base_url
    FROM services s LEFT JOIN selfservice_jobs j
      ON j.service_id = s.id AND j.template IN :templates AND j.status = 'succeeded'
     AND j.params ->> 'environment' = 'prod'
    WHERE s.slug = :main
    ORDER BY j.finished_at DESC NULLS LAST LIMIT 1),
fleet AS (
    SELECT s.slug, s.name, t.name AS team, s.tier,
           CASE WHEN p.state = 'exhausted' AND NOT EXISTS (
                    SELECT 1 FROM slo_policy_overrides o WHERE o.service_id = s.id
                    AND o.revoked_at IS NULL AND o.starts_at <= :now AND o.expires_at > :now)
                THEN 'frozen'
                WHEN p.state IN ('exhausted', 'at_risk') THEN 'degraded'
                ELSE 'healthy' END AS status,
           count(*) OVER () AS total,
           row_number() OVER (ORDER BY CASE p.state WHEN 'exhausted' THEN 0
                                      WHEN 'at_risk' THEN 1 ELSE 2 END, s.tier, s.name) AS pos
    FROM services s JOIN teams t ON t.id = s.team_id
    LEFT JOIN slo_policy_states p ON p.service_id = s.id
    WHERE s.kind = 'service'
    ORDER BY pos LIMIT :fleet_limit),
releases AS (
    SELECT coalesce(j.finished_at, j.started_at, j.created_at) AS at,
           coalesce(s.slug, j.params ->> 'service') AS service_slug,
           coalesce(s.name, j.params ->> 'service') AS service,
           j.action, coalesce(j.params ->> 'environment', '') AS environment,
           coalesce(j.result ->> 'tag', j.params ->> 'image_tag') AS version,
           u.email AS who, j.status, j.result -> 'rollout' ->> 'outcome' AS rollout,
           row_number() OVER (ORDER BY coalesce(j.finished_at, j.started_at, j.created_at)
                              DESC, j.id) AS pos
    FROM selfservice_jobs j JOIN users u ON u.id = j.requested_by_id
    LEFT JOIN services s ON s.id = j.service_id
    WHERE j.template IN :templates AND j.status IN ('succeeded', 'failed', 'cancelled')
    ORDER BY pos LIMIT :release_limit)
SELECT traffic.*, main.version, main.at AS version_at, main.base_url,
       (SELECT coalesce(json_agg(fleet ORDER BY pos), '[]') FROM fleet) AS fleet,
       (SELECT coalesce(json_agg(releases ORDER BY pos), '[]') FROM releases) AS releases,
       (SELECT coalesce(json_object_agg(plan, n), '{}')
        FROM (SELECT plan, count(*) AS n FROM tenants GROUP BY plan) AS plans) AS tenant_counts,
       (SELECT count(*) FROM incidents_action_items
        WHERE status != 'done' AND due_date < :today) AS late_action_items,
       (SELECT coalesce(json_agg(team_slug ORDER BY team_slug), '[]')
        FROM user_team_memberships WHERE user_id = :user_id) AS team_slugs
FROM traffic LEFT JOIN main ON true
""").bindparams(bindparam("templates", expanding=True))


def outcome(status: str, rollout: str | None) -> str:
    """What a release ended as: succeeded, flagged (landed but the rollout did not settle
    healthy), failed or cancelled."""
    if status == "succeeded" and rollout in FLAGGED_ROLLOUTS:
        return "flagged"
    return status


def _percent(part: int, whole: int) -> float | None:
    return 100.0 * part / whole if whole else None


def main_service() -> str:
    return current_app.config.get("HOME_MAIN_SERVICE") or MAIN_SERVICE


def overview(*, session: Session, now: datetime | None = None,
             release_limit: int = TIMELINE_LIMIT, user_id: int | None = None) -> Overview:
    """Figures, fleet and releases in one statement (the latency from the background probe)."""
    if session.info.get("tenant_id") is not None:
        # Plain SQL skips the per-tenant row filter: the overview is for internal users.
        raise PermissionError("the status overview is not for tenant-bound sessions")
    now = now or utcnow()
    until = now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    main = main_service()
    row = session.execute(_OVERVIEW, {
        "since_avail": until - AVAILABILITY_WINDOW, "since_day": until - TRAFFIC_WINDOW,
        "until": until, "now": now, "today": now.date(), "templates": list(RELEASE_TEMPLATES),
        "main": main, "fleet_limit": FLEET_LIMIT, "release_limit": release_limit,
        "user_id": user_id}).one()
    good_30d, total_30d = int(row.good_30d), int(row.total_30d)
    good_1d, total_1d = int(row.good_1d), int(row.total_1d)
    figures = Figures(availability=_percent(good_30d, total_30d), daily_requests=total_1d,
                      error_rate=_percent(total_1d - good_1d, total_1d),
                      p99_ms=p99_ms(row.base_url), main_service=main, version=row.version,
                      version_at=row.version_at)
    root = _values_root()
    fleet = [FleetRow(slug=r["slug"], name=r["name"], team=r["team"], tier=r["tier"],
                      replicas=replicas(root, r["slug"]), status=r["status"])
             for r in row.fleet]
    releases = [Release(at=datetime.fromisoformat(r["at"]), service_slug=r["service_slug"] or "",
                        service=r["service"] or "?", action=r["action"],
                        environment=r["environment"], version=r["version"], who=r["who"],
                        outcome=outcome(r["status"], r["rollout"])) for r in row.releases]
    return Overview(figures=figures, fleet=fleet,
                    fleet_total=row.fleet[0]["total"] if row.fleet else 0, releases=releases,
                    tenant_counts={plan: 0 for plan in PLANS} | row.tenant_counts,
                    late_action_items=int(row.late_action_items), team_slugs=row.team_slugs)


# The latency tile never waits on the service: a page view shows the last reading and, when
# it is older than LATENCY_CACHE_SECONDS, hands one probe to a background thread. A slow or
# absent service (the probe's timeouts and retry take seconds) then costs no page anything.
_latency: dict[str, tuple[float, float | None]] = {}   # base_url -> (read at, p99 ms)
_probing: set[str] = set()
_latency_lock = threading.Lock()
_probe_pool: ThreadPoolExecutor | None = None


def _forget_probe_pool() -> None:
    # A forked worker inherits the pool object but not its thread (nor a lock's holder).
    global _probe_pool, _latency_lock
    _probe_pool, _latency_lock = None, threading.Lock()
    _probing.clear()


os.register_at_fork(after_in_child=_forget_probe_pool)


def p99_ms(base_url: str | None) -> float | None:
    """The main service's p99 request latency since it started, as last read in the
    background (None until a first reading, or while the service cannot be reached)."""
    if not base_url:
        return None
    with _latency_lock:
        read_at, value = _latency.get(base_url, (None, None))
        stale = read_at is None or time.monotonic() - read_at >= LATENCY_CACHE_SECONDS
        if stale and base_url not in _probing:
            _probing.add(base_url)
            _start_probe(base_url)
    return value


def _start_probe(base_url: str) -> None:
    global _probe_pool
    if _probe_pool is None:
        _probe_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="home-latency")
    # The thread needs the app itself, not the proxy of this request.
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    _probe_pool.submit(_probe, app, base_url)


def _probe(app, base_url: str) -> None:
    """Read the service's /metrics (in the app's context: a platform token may be needed);
    an unreachable service is remembered as unknown until the next probe."""
    seconds = None
    try:
        with app.app_context():
            seconds = service_probe.red(base_url).p99_seconds
    except service_probe.ServiceUnavailable:
        pass
    except Exception:
        # Whatever went wrong, the reading must be stored so that a later view probes again.
        log.exception("latency probe of %s failed", base_url)
    with _latency_lock:
        _latency[base_url] = (time.monotonic(), None if seconds is None else seconds * 1000.0)
        _probing.discard(base_url)


def _values_root() -> Path:
    """The GitOps clone when it exists (deploys change it), else the bundled layout."""
    clone = gitops_path()
    return clone if (clone / "envs").is_dir() else PROJECT_ROOT / "infra" / "argocd"


_replicas: dict[tuple[str, int], int | None] = {}


def replicas(root: Path, slug: str) -> int | None:
    """replicaCount of the service's prod values (None when it has no values file)."""
    # A plain string path: the fleet asks for every row on each view, and Path joins cost
    # more than the stat itself.
    path = f"{root}/envs/prod/{slug}/values.yaml"
    try:
        mtime = os.stat(path).st_mtime_ns
    except (OSError, ValueError):
        return None
    hit = _replicas.get((path, mtime), ...)
    if hit is not ...:
        return hit
    try:
        values = yaml.safe_load(Path(path).read_text()) or {}
        count = values.get("replicaCount", 1) if isinstance(values, dict) else None
        count = count if isinstance(count, int) and not isinstance(count, bool) else None
    except (OSError, yaml.YAMLError):
        count = None
    if len(_replicas) > 1000:
        _replicas.clear()
    _replicas[(path, mtime)] = count
    return count
