"""The self-service panels other pages show (a catalog service's jobs, the home's
environments) are read as plain columns; they show exactly what the Job and Environment
objects showed, in the same order, in one statement each."""
import re
from datetime import timedelta

from sqlalchemy import select

from portal.db import utcnow
from portal.selfservice import service
from portal.selfservice.models import Environment, Job
from tests.seeded_demo import counting


def _section(html: str, start: str, end: str) -> str:
    return html[html.index(start):html.index(end, html.index(start))]


def _jobs(session, meridian, requester, other):
    """Deploys and rollbacks of the service: flagged, healthy, with odd or missing
    parameters and results, more than the panel shows, some at the same moment."""
    now = utcnow()
    base = dict(template="service-deploy", tier="prod", target="argocd:order", gate="auto",
                service_id=meridian["order"].id)
    rows = [
        Job(action="deploy", status="succeeded", params={"image_tag": "v1.2.3"},
            result={"rollout": {"outcome": "degraded"}}, requested_by_id=requester.id,
            created_at=now - timedelta(minutes=1), **base),
        Job(action="deploy", status="succeeded", params={"image_tag": 7},
            result={"rollout": {"outcome": "healthy"}}, requested_by_id=other.id,
            created_at=now - timedelta(minutes=2), **base),
        Job(action="rollback", status="failed",
            params={"reverts_commit": "0123456789abcdef0123"}, result={},
            requested_by_id=requester.id, created_at=now - timedelta(minutes=3), **base),
        Job(action="rollback", status="queued", params={}, result={"rollout": "pending"},
            requested_by_id=other.id, created_at=now - timedelta(minutes=3), **base),
        Job(action="deploy", status="running", params={"image_tag": None}, result={},
            requested_by_id=requester.id, created_at=now - timedelta(minutes=3), **base),
    ]
    rows += [Job(action="deploy", status="succeeded", params={"image_tag": f"v0.{i}"},
                 result={"rollout": {"outcome": "unsettled"}}, requested_by_id=other.id,
                 created_at=now - timedelta(hours=i + 1), **base) for i in range(8)]
    session.add_all(rows)
    session.commit()


def _job_objects(*, session, service_id: int, limit: int = 10) -> list[Job]:
    """The whole Job objects the panel was rendered from before (the reference)."""
    return list(session.scalars(select(Job).where(Job.service_id == service_id)
                                .order_by(Job.created_at.desc(), Job.id.desc()).limit(limit)))


def test_service_page_jobs_show_what_the_job_objects_showed(client, login_as, session,
                                                            meridian, make_user, monkeypatch):
    viewer = login_as("developer")
    _jobs(session, meridian, viewer, make_user("developer"))
    with counting(session.connection()) as seen:
        shown = client.get("/catalog/services/order").get_data(as_text=True)
    job_reads = [s for s in seen if "FROM selfservice_jobs" in s]
    monkeypatch.setattr(service, "service_jobs", _job_objects)
    expected = client.get("/catalog/services/order").get_data(as_text=True)
    panel = _section(shown, '<section id="selfservice-panel">', "</section>")
    assert panel == _section(expected, '<section id="selfservice-panel">', "</section>")
    assert len(job_reads) == 1
    assert len(re.findall(r"<tr><td><a href=\"/selfservice/jobs/", panel)) == 10
    assert "<code>v1.2.3</code>" in panel and "<code>7</code>" in panel
    assert "revert <code>0123456789ab</code>" in panel
    assert "flagged: degraded" in panel and "flagged: healthy" not in panel
    assert viewer.email in panel


def test_the_panel_follows_new_jobs(client, login_as, session, meridian):
    viewer = login_as("developer")
    _jobs(session, meridian, viewer, viewer)
    before = client.get("/catalog/services/order").get_data(as_text=True)
    session.add(Job(template="service-deploy", tier="prod", target="argocd:order",
                    gate="auto", service_id=meridian["order"].id, action="deploy",
                    status="succeeded", params={"image_tag": "v9.9.9"},
                    result={"rollout": {"outcome": "missing"}}, requested_by_id=viewer.id))
    session.commit()
    after = client.get("/catalog/services/order").get_data(as_text=True)
    assert "v9.9.9" not in before and "<code>v9.9.9</code>" in after
    assert "flagged: missing" in after


def test_home_environments_show_what_the_environment_objects_showed(client, login_as,
                                                                    session, monkeypatch):
    viewer = login_as("developer")
    now = utcnow()
    session.add_all([
        Environment(name=f"env-{i}", template="dev-environment", tier="dev",
                    owner_id=viewer.id, status=status, tags={"team": "platform"},
                    created_at=now - timedelta(minutes=i // 2))
        for i, status in enumerate(("active", "failed", "destroyed", "provisioning",
                                    "requested", "destroying", "active"))])
    session.commit()
    shown = client.get("/").get_data(as_text=True)
    monkeypatch.setattr(service, "my_environment_names", service.my_environments)
    expected = client.get("/").get_data(as_text=True)
    panel = _section(shown, "<header>My environments</header>", "</ul>")
    assert panel == _section(expected, "<header>My environments</header>", "</ul>")
    assert "env-2" not in panel and panel.count("<li><strong>env-") == 6
    assert 'data-status="provisioning"' in panel
