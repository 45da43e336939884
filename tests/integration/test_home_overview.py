"""The home page's status overview: figures from stored SLO samples and deploy jobs, the
fleet's status from error-budget policy states, a bounded release timeline, one statement
whatever the number of deploys, and nothing of it for tenant viewers."""
from __future__ import annotations

import threading
import uuid
from datetime import timedelta
from http.server import ThreadingHTTPServer

import pytest
import yaml
from sqlalchemy import event

from portal.catalog.models import Service, Team
from portal.config import PROJECT_ROOT
from portal.db import utcnow
from portal.home import overview
from portal.selfservice.models import Job
from portal.slo import samples
from portal.slo.models import PolicyOverride, PolicyState, Slo
from portal.slo.samples import MinuteSample
from tests.httpserver import QuietHandler

NOW = utcnow()
pytestmark = pytest.mark.usefixtures("app")  # the main service and GitOps path are config


def _slo(session, service, name, latency_ms=None):
    slo = Slo(service_id=service.id, name=name, sli_kind="latency" if latency_ms else "ratio",
              objective="99.5", good_query="good", total_query="total",
              latency_threshold_ms=latency_ms)
    session.add(slo)
    session.flush()
    return slo


def _samples(session, slo, *points):
    samples.record(session=session, slo_id=slo.id, samples=[
        MinuteSample(NOW - age, good, total) for age, good, total in points])


@pytest.fixture
def fleet(session):
    """order (availability samples, a second availability SLO and a latency SLO that must
    not count), billing (spent budget: frozen), search (spent but overridden: degraded)."""
    team = Team(slug="payments", name="Payments")
    session.add(team)
    order, billing, search = (Service(slug=slug, name=slug.title(), kind="service", tier=tier,
                                      team=team)
                              for slug, tier in (("order", 1), ("billing", 2), ("search", 2)))
    session.add_all([order, billing, search])
    session.flush()
    _samples(session, _slo(session, order, "availability"),
             (timedelta(days=40), 0, 1000),          # outside the 30 days
             (timedelta(days=10), 900, 1000),
             (timedelta(hours=2), 990, 1000))
    _samples(session, _slo(session, order, "checkout-availability"), (timedelta(hours=1), 0, 50))
    _samples(session, _slo(session, order, "latency", latency_ms=300), (timedelta(hours=1), 0, 70))
    _samples(session, _slo(session, billing, "availability"), (timedelta(hours=1), 500, 500))
    session.add_all([PolicyState(service_id=billing.id, state="exhausted", changed_at=NOW),
                     PolicyState(service_id=search.id, state="exhausted", changed_at=NOW),
                     PolicyOverride(service_id=search.id, justification="x" * 30,
                                    created_by_email="m@test.example",
                                    starts_at=NOW - timedelta(hours=1),
                                    expires_at=NOW + timedelta(days=1))])
    session.commit()
    return {"order": order, "billing": billing, "search": search}


def _job(session, user, service, *, minutes_ago, tag, status="succeeded", env="prod",
         action="deploy", rollout=None):
    result = {"tag": tag} if status == "succeeded" else {}
    if rollout:
        result["rollout"] = {"outcome": rollout}
    job = Job(id=uuid.uuid4(), template=f"service-{action}", action=action, tier=env,
              target=service.slug, gate="confirm", status=status, service_id=service.id,
              requested_by_id=user.id, finished_at=NOW - timedelta(minutes=minutes_ago),
              params={"service": service.slug, "environment": env, "image_tag": tag},
              result=result)
    session.add(job)
    return job


def test_figures_come_from_each_services_availability_samples(session, fleet, make_user):
    user = make_user("developer")
    _job(session, user, fleet["order"], minutes_ago=50, tag="v1.0.0")
    _job(session, user, fleet["order"], minutes_ago=30, tag="v1.1.0")
    _job(session, user, fleet["order"], minutes_ago=20, tag="v1.2.0", status="failed")
    _job(session, user, fleet["order"], minutes_ago=10, tag="v9.9.9", env="staging")
    _job(session, user, fleet["billing"], minutes_ago=5, tag="b7")
    session.commit()
    figures = overview.overview(session=session, now=NOW).figures
    # 900 + 990 + 500 good of 3000 events in 30 days; the day saw 1490 good of 1500.
    assert figures.availability == pytest.approx(100 * 2390 / 2500)
    assert figures.daily_requests == 1500
    assert figures.error_rate == pytest.approx(100 * 10 / 1500)
    assert (figures.main_service, figures.version) == ("order", "v1.1.0")
    assert figures.version_at == NOW - timedelta(minutes=30)
    assert figures.p99_ms is None  # order has no base URL to probe


def test_no_traffic_is_no_figure_rather_than_zero(session):
    figures = overview.overview(session=session, now=NOW).figures
    assert figures.availability is None and figures.error_rate is None
    assert figures.daily_requests == 0 and figures.version is None


def test_fleet_lists_worst_first_with_replicas_and_team(session, fleet):
    result = overview.overview(session=session, now=NOW)
    rows = {r.slug: r for r in result.fleet}
    assert [r.slug for r in result.fleet] == ["billing", "search", "order"]
    assert (rows["billing"].status, rows["search"].status, rows["order"].status) == \
        ("frozen", "degraded", "healthy")
    assert {r.team for r in result.fleet} == {"Payments"} and result.fleet_total == 3
    values = yaml.safe_load((PROJECT_ROOT / "infra/argocd/envs/prod/order/values.yaml")
                            .read_text())
    assert rows["order"].replicas == values["replicaCount"]


def test_timeline_is_newest_first_bounded_and_finished_only(session, fleet, make_user):
    user = make_user("developer")
    for i in range(25):
        _job(session, user, fleet["billing"], minutes_ago=100 + i, tag=f"b{i}")
    _job(session, user, fleet["order"], minutes_ago=1, tag="r1", action="rollback")
    _job(session, user, fleet["order"], minutes_ago=2, tag="v2", rollout="degraded")
    _job(session, user, fleet["order"], minutes_ago=3, tag="v3", status="failed")
    _job(session, user, fleet["order"], minutes_ago=0, tag="v4", status="running")
    session.commit()
    releases = overview.overview(session=session, now=NOW).releases
    assert len(releases) == overview.TIMELINE_LIMIT
    assert [r.at for r in releases] == sorted((r.at for r in releases), reverse=True)
    assert [(r.action, r.version, r.outcome) for r in releases[:3]] == [
        ("rollback", "r1", "succeeded"), ("deploy", "v2", "flagged"), ("deploy", "v3", "failed")]
    assert releases[3].version == "b0" and releases[-1].version == "b16"
    assert releases[0].who == user.email and releases[0].service == "Order"


def _statements(session, callable_):
    seen = []

    def count(*args):
        seen.append(args[2])
    conn = session.connection()
    event.listen(conn, "before_cursor_execute", count)
    try:
        callable_()
    finally:
        event.remove(conn, "before_cursor_execute", count)
    return len(seen)


def test_one_statement_with_10_or_100_deploys(session, fleet, make_user):
    user = make_user("developer")
    counts = []
    for n in (10, 90):
        for i in range(n):
            _job(session, user, fleet["order"], minutes_ago=i, tag=f"n{n}-{i}")
        session.commit()
        counts.append(_statements(session, lambda: overview.overview(session=session)))
    assert counts == [1, 1]


def test_internal_users_see_the_overview(client, session, fleet, login_as, make_user):
    login_as("developer")
    _job(session, make_user("oncall"), fleet["order"], minutes_ago=5, tag="v7.7.7")
    session.commit()
    html = client.get("/").get_data(as_text=True)
    assert 'id="home-overview"' in html
    tile = html.split('id="tile-availability"')[1].split("</article>")[0]
    assert f"{100 * 2390 / 2500:.3f}%" in tile
    assert "v7.7.7" in html.split('id="tile-version"')[1].split("</article>")[0]
    fleet_table = html.split('id="overview-fleet"')[1].split("</table>")[0]
    assert fleet_table.index('data-service="billing"') < fleet_table.index('data-service="order"')
    assert "frozen" in fleet_table
    assert "3 services with owners" in html  # the developer card's count rides along


def test_manager_plan_counts_ride_along(client, fleet, login_as, make_tenant):
    make_tenant(plan="growth")
    make_tenant(plan="growth")
    login_as("manager")
    html = client.get("/").get_data(as_text=True)
    assert "?plan=growth" in html and ">growth: 2<" in html


def test_tenant_viewers_see_no_fleet_internals(client, session, fleet, login_as, make_user):
    _job(session, make_user("developer"), fleet["order"], minutes_ago=5, tag="v7.7.7")
    session.commit()
    login_as("tenant_viewer")
    html = client.get("/").get_data(as_text=True)
    for secret in ('id="home-overview"', "overview-fleet", "v7.7.7", "Payments", "billing"):
        assert secret not in html, secret


def test_tenant_bound_sessions_are_refused(session, fleet):
    session.info["tenant_id"] = 1
    try:
        with pytest.raises(PermissionError):
            overview.overview(session=session)
    finally:
        session.info.pop("tenant_id")


class _Metrics(QuietHandler):
    """The two requests the latency probe makes of a service: /healthz (which names the
    service for a token) and /metrics, answered with a request-duration histogram."""
    paths: list[str] = []

    def do_GET(self):  # noqa: N802 (http.server's name)
        self.paths.append(self.path)
        if self.path == "/healthz":
            body, kind = b'{"status": "ok"}', "application/json"
        elif self.path == "/metrics":
            body, kind = "\n".join(
                f'meridian_request_duration_seconds_bucket{{le="{le}"}} {n}'
                for le, n in (("0.1", 90), ("0.25", 99), ("0.5", 100), ("+Inf", 100))
            ).encode() + b"\n", "text/plain"
        else:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def _serve(handler):
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def _first_reading(session) -> float | None:
    """The p99 once the background probe the first view started has answered."""
    for _ in range(200):
        value = overview.overview(session=session).figures.p99_ms
        if value is not None:
            return value
        threading.Event().wait(0.05)
    return None


def test_p99_latency_from_the_main_services_metrics_is_cached(session, fleet):
    server = _serve(_Metrics)
    try:
        fleet["order"].base_url = f"http://127.0.0.1:{server.server_port}"
        session.commit()
        assert _first_reading(session) == pytest.approx(250.0)
        probes = _Metrics.paths.count("/metrics")
        assert overview.overview(session=session).figures.p99_ms == pytest.approx(250.0)
        assert _Metrics.paths.count("/metrics") == probes == 1
    finally:
        server.shutdown()
        server.server_close()


class _StuckMetrics(_Metrics):
    """A service whose /metrics answers only once the test lets it."""
    paths: list[str] = []
    release = threading.Event()

    def do_GET(self):  # noqa: N802 (http.server's name)
        if self.path == "/metrics":
            self.release.wait(10)
        super().do_GET()


def test_a_view_never_waits_on_the_services_metrics(session, fleet):
    server = _serve(_StuckMetrics)
    try:
        fleet["order"].base_url = f"http://127.0.0.1:{server.server_port}"
        session.commit()
        # The probe is held inside /metrics, yet the overview answers, without the figure.
        assert overview.overview(session=session).figures.p99_ms is None
        assert not _StuckMetrics.release.is_set()
        _StuckMetrics.release.set()
        assert _first_reading(session) == pytest.approx(250.0)
    finally:
        _StuckMetrics.release.set()
        server.shutdown()
        server.server_close()
