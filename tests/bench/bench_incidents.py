"""Benchmark of the incident pages (not run by CI).

Run: .venv/bin/python tests/bench/bench_incidents.py
Needs the PostgreSQL of the test suite (TEST_DATABASE_ADMIN_URL). Server time is measured
in-process through the WSGI test client, so no network is counted. Each figure is printed
next to a baseline measured in the same run:
- timeline: an incident with 5,000 entries vs one with 50 (first render, and incremental
  refresh with nothing new / one new entry: the refresh must not grow with the timeline);
- metrics page: 10,000 incidents vs 100.
"""
from __future__ import annotations

import random
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from sqlalchemy import insert, select  # noqa: E402

from portal.app import create_app  # noqa: E402
from portal.auth import service as accounts  # noqa: E402
from portal.catalog import service as catalog  # noqa: E402
from portal.db import utcnow  # noqa: E402
from portal.extensions import db  # noqa: E402
from portal.incidents import timeline  # noqa: E402
from portal.incidents.models import (  # noqa: E402
    Incident,
    IncidentService,
    Postmortem,
    TimelineEntry,
)
from tests.conftest import (  # noqa: E402
    FAST_ARGON2,
    TEST_PASSWORD,
    PortalClient,
    create_database,
    drop_database,
)

RNG = random.Random(7)


def median_ms(fn, runs: int) -> float:
    fn()  # warm-up: template compilation, connection pool
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def incident_with_entries(session, n: int) -> int:
    incident = Incident(title=f"bench {n} entries", severity="sev2")
    session.add(incident)
    session.flush()
    now = utcnow()
    session.execute(insert(TimelineEntry), [
        {"incident_id": incident.id, "kind": "note" if i % 3 else "alert",
         "summary": f"entry {i}", "body_md": f"entry **{i}**",
         "body_html": f"<p>entry <strong>{i}</strong></p>", "at": now, "details": {},
         "pinned": False} for i in range(n)])
    return incident.id


def add_incidents(session, n: int, service_ids: list[int]) -> None:
    now, rows = utcnow(), []
    for _ in range(n):
        opened = now - timedelta(days=RNG.uniform(0, 360))
        ack = opened + timedelta(minutes=RNG.uniform(1, 60))
        rows.append({"title": "bench", "severity": RNG.choice(["sev1", "sev2", "sev3", "sev4"]),
                     "status": "resolved", "summary": "", "customer_facing": False,
                     "source": "manual", "roles": {}, "opened_at": opened,
                     "acknowledged_at": ack, "mitigated_at": ack,
                     "resolved_at": ack + timedelta(minutes=RNG.uniform(5, 300))})
    ids = session.scalars(insert(Incident).returning(Incident.id), rows).all()
    session.execute(insert(IncidentService), [
        {"incident_id": i, "service_id": RNG.choice(service_ids)} for i in ids])
    severities = dict(session.execute(select(Incident.id, Incident.severity)
                                      .where(Incident.id.in_(ids))).all())
    session.execute(insert(Postmortem), [
        {"incident_id": i, "required": True, "due_at": now - timedelta(days=1),
         "completed_at": now - timedelta(days=2) if RNG.random() < 0.8 else None,
         "summary": "", "impact": "", "timeline": "", "root_cause": "",
         "contributing_factors": "", "went_well": "", "went_badly": "", "lessons": ""}
        for i in ids if severities[i] in ("sev1", "sev2")])


def login(app) -> PortalClient:
    app.test_client_class = PortalClient
    client = app.test_client()
    response = client.post_form("/login", {"email": "bench@meridian.example",
                                            "password": TEST_PASSWORD})
    assert response.status_code == 303, response.status_code
    return client


def setup(app) -> tuple[int, int, list[int]]:
    with app.app_context(), db.session_scope() as session:
        accounts.create(session=session, email="bench@meridian.example", name="Bench",
                        password=TEST_PASSWORD, roles=["oncall", "manager"], params=FAST_ARGON2)
        team = catalog.upsert_team(session=session, slug="bench", name="Bench", chat_channel=None)
        services = [catalog.upsert_service(session=session, slug=f"svc-{i}", team=team,
                                           name=f"Service {i}") for i in range(9)]
        small = incident_with_entries(session, 50)
        large = incident_with_entries(session, 5000)
        add_incidents(session, 98, [s.id for s in services])
        return small, large, [s.id for s in services]


def analyze(app) -> None:
    """Refresh planner statistics after bulk loads, as autovacuum would in production."""
    with app.app_context(), db.engine.connect() as conn:
        conn.exec_driver_sql("ANALYZE")
        conn.commit()


def timeline_figures(app, client, incident_id: int) -> dict[str, float]:
    with app.app_context():
        latest = timeline.latest_id(session=db.session, incident_id=incident_id)
    return {
        "first render": median_ms(lambda: client.get(f"/incidents/{incident_id}"), 20),
        "refresh, nothing new": median_ms(lambda: client.get(
            f"/incidents/{incident_id}/timeline?after_id={latest}",
            headers={"HX-Request": "true"}), 50),
        "refresh, one new entry": median_ms(lambda: client.get(
            f"/incidents/{incident_id}/timeline?after_id={latest - 1}",
            headers={"HX-Request": "true"}), 50),
    }


def main() -> None:
    url = create_database("_bench")
    app = create_app({"TESTING": True, "DATABASE_URL": url, "SECRET_KEY": "bench",
                      "RATELIMIT_STORAGE_URI": "memory://", "LOG_FORMAT": "text"})
    try:
        small, large, service_ids = setup(app)
        analyze(app)
        client = login(app)
        base, big = timeline_figures(app, client, small), timeline_figures(app, client, large)
        print("Timeline (median ms)            50 entries   5,000 entries   ratio")
        for name in base:
            print(f"  {name:<28} {base[name]:>10.2f} {big[name]:>15.2f} {big[name] / base[name]:>7.2f}")
        metrics_100 = median_ms(lambda: client.get("/incidents/metrics"), 10)
        with app.app_context(), db.session_scope() as session:
            add_incidents(session, 9_900, service_ids)
        analyze(app)
        metrics_10k = median_ms(lambda: client.get("/incidents/metrics"), 10)
        print("Metrics page (median ms)        100 incidents  10,000 incidents  ratio")
        print(f"  {'GET /incidents/metrics':<28} {metrics_100:>10.2f} {metrics_10k:>15.2f} "
              f"{metrics_10k / metrics_100:>7.2f}")
    finally:
        app.extensions["portal_db"].engine.dispose()
        drop_database(url)


if __name__ == "__main__":
    main()
