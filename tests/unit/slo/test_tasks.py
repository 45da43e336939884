"""The beat task: picks the source from the configuration and stores what it collects."""
from __future__ import annotations

from portal.slo import samples, tasks
from portal.slo.sources import PrometheusSource, ScrapeSource
from tests.unit.slo.factories import make_service, make_slo
from tests.unit.slo.metrics_server import FakeService, metrics_server


def test_source_follows_configuration(app):
    app.config["PROMETHEUS_URL"] = None
    assert isinstance(tasks.configured_source(), ScrapeSource)
    app.config["PROMETHEUS_URL"] = "http://127.0.0.1:9"
    assert isinstance(tasks.configured_source(), PrometheusSource)


def test_collect_task_scrapes_and_stores(app, session, monkeypatch):
    app.config["PROMETHEUS_URL"] = None
    fake = FakeService("x")
    with metrics_server(fake) as url:
        svc = make_service(session, base_url=url)
        fake.slug = svc.slug
        slo = make_slo(session, svc)
        session.commit()
        fake.serve(10, 0)
        assert tasks.collect_samples.run() == 0          # first reading sets the cursor
        fake.serve(9, 1)
        later = samples.floor_minute(samples.MINUTE + tasks.utcnow())
        monkeypatch.setattr(tasks, "utcnow", lambda: later)
        assert tasks.collect_samples.run() == 1
    stored = samples.minute_series(session=session, slo_id=slo.id,
                                   start=later - 2 * samples.MINUTE, end=later)
    assert [(m.good, m.total) for m in stored] == [(9, 10)]


def test_collect_task_survives_prometheus_down(app, session, caplog):
    make_slo(session, make_service(session))
    session.commit()
    app.config["PROMETHEUS_URL"] = "http://127.0.0.1:9"   # nothing listens on port 9
    app.config["PROMETHEUS_TIMEOUT"] = 0.5
    assert tasks.collect_samples.run() == 0
    assert "SLI collection skipped" in caplog.text


def test_collection_runs_at_the_start_of_every_minute():
    """Readings must land in consecutive minutes; a drifting 60 s interval makes gaps."""
    schedule = tasks.BEAT_SCHEDULE["slo-collect-samples"]["schedule"]
    assert schedule.minute == set(range(60)) and schedule.hour == set(range(24))
    assert tasks.BEAT_SCHEDULE["slo-collect-samples"]["options"]["expires"] < 60
