"""The suspect-change panel of an incident and its guarded rollback, through the real app
on the real PostgreSQL and RabbitMQ.

The changed entries: `order-s` (the incident's service) depends on `payment-s`, which
depends on `ledger-s`; `unrelated-s` is outside that subgraph. A requested rollback is
sent to RabbitMQ on a queue of this test's own, where the test reads it back.
"""
from __future__ import annotations

import secrets
import uuid
from datetime import timedelta

import pytest
from kombu import Connection
from sqlalchemy import event, select

from portal.auth.models import AuditEntry
from portal.catalog import service as catalog
from portal.db import utcnow
from portal.incidents import service as incidents
from portal.incidents.models import TimelineEntry
from portal.integrations.alertmanager import Matcher
from portal.oncall import silence_ledger
from portal.oncall.silence_ledger import LedgerSilence
from portal.selfservice import service as selfservice
from portal.selfservice.models import Job
from tests.conftest import BROKER_URL
from tests.unit.slo.factories import fill, make_slo

pytestmark = pytest.mark.integration
NOW = utcnow()


@pytest.fixture
def queue(app):
    """A RabbitMQ queue of this test's own for the self-service tasks; deleted after."""
    name = f"suspects-{secrets.token_hex(4)}"
    app.config["SELFSERVICE_QUEUE"] = name
    yield name
    with Connection(BROKER_URL) as conn:
        conn.default_channel.queue_delete(name)


@pytest.fixture
def world(session, make_user):
    """The catalog, an incident on order-s opened an hour ago, and the people."""
    team = catalog.upsert_team(session=session, slug="shop-s", name="Shop", chat_channel=None)
    svc = {slug: catalog.upsert_service(session=session, slug=slug, team=team, kind="service",
                                        name=slug.replace("-s", "").title() + " S")
           for slug in ("order-s", "payment-s", "ledger-s", "unrelated-s")}
    catalog.set_dependencies(session=session, service=svc["order-s"],
                             depends_on={"payment-s": "charges"})
    catalog.set_dependencies(session=session, service=svc["payment-s"],
                             depends_on={"ledger-s": "bookings"})
    incident = incidents.declare(session=session, title="Checkout fails", severity="sev2",
                                 actor_email="oncall@test.example", service_slugs=["order-s"],
                                 opened_at=NOW - timedelta(hours=1))
    deployer = make_user("developer", email=f"dora-{secrets.token_hex(2)}@test.example")
    session.commit()
    return {"svc": svc, "incident": incident, "deployer": deployer}


def deploy(session, world, slug: str, *, tag: str, ago: timedelta, env: str = "prod",
           status: str = "succeeded") -> Job:
    """A deploy job as the worker leaves it after applying it."""
    at = NOW - ago
    job = Job(id=uuid.uuid4(), template="service-deploy", action="deploy", tier=env,
              target="gitops", params={"service": slug, "environment": env, "image_tag": tag},
              gate="approval" if env == "prod" else "auto", status=status, phase="apply",
              service=world["svc"][slug], requested_by=world["deployer"],
              created_at=at - timedelta(minutes=20), started_at=at - timedelta(minutes=2),
              finished_at=at, plan={"from": "v0", "to": tag},
              result={"commit": secrets.token_hex(20), "previous_tag": "v0", "tag": tag}
              if status == "succeeded" else {})
    session.add(job)
    session.commit()
    return job


def silence(session, slug: str, *, ago: timedelta, comment: str) -> LedgerSilence:
    sid = str(uuid.uuid4())
    silence_ledger.record(session=session, silence_id=sid, matchers=(Matcher("service", slug),),
                          starts_at=NOW - ago, ends_at=NOW + timedelta(hours=2),
                          created_by="sam@test.example", comment=comment)
    entry = session.scalar(select(LedgerSilence).where(LedgerSilence.silence_id == sid))
    entry.created_at = NOW - ago
    session.commit()
    return entry


def page(client, world) -> str:
    response = client.get(f"/incidents/{world['incident'].id}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def rows(body: str) -> list[str]:
    return body.split('<tr class="suspect"')[1:]


def test_changes_on_the_service_and_its_dependencies_in_the_window(client, login_as, world,
                                                                   session):
    deploy(session, world, "order-s", tag="v2.0.1", ago=timedelta(hours=2))
    deploy(session, world, "ledger-s", tag="v7.3.0", ago=timedelta(hours=3))
    deploy(session, world, "order-s", tag="v1.9.9", ago=timedelta(hours=9))  # before the window
    deploy(session, world, "unrelated-s", tag="v5.5.5", ago=timedelta(hours=2))
    silence(session, "payment-s", ago=timedelta(minutes=30), comment="noisy during failover")
    silence(session, "unrelated-s", ago=timedelta(minutes=30), comment="unrelated maintenance")
    login_as("oncall")
    body = page(client, world)
    shown = rows(body)
    assert len(shown) == 3
    own = next(r for r in shown if "v2.0.1" in r)
    assert 'data-hit="service"' in own and "the service itself" in own and "(was v0)" in own
    assert "Test developer" in own and "succeeded" in own
    ledger_row = next(r for r in shown if "v7.3.0" in r)
    assert 'data-hit="dependency"' in ledger_row
    assert "dependency of order-s via payment-s" in ledger_row
    silenced = next(r for r in shown if 'data-kind="silence"' in r)
    assert "payment-s" in silenced and "noisy during failover" in silenced
    assert "sam@test.example" in silenced
    for absent in ("v1.9.9", "v5.5.5", "unrelated maintenance"):
        assert absent not in body
    assert "Request rollback" not in body  # on-call engineers do not request deploys


def test_a_wider_window_brings_older_changes(client, login_as, world, session):
    deploy(session, world, "order-s", tag="v1.9.9", ago=timedelta(hours=9))
    login_as("developer")
    url = f"/incidents/{world['incident'].id}/suspects?hours=12"
    fragment = client.get(url, headers={"HX-Request": "true"}).get_data(as_text=True)
    assert 'id="suspects"' in fragment
    assert "v1.9.9" in fragment and "<html" not in fragment
    assert client.get(f"/incidents/{world['incident'].id}/suspects?hours=0").status_code == 400
    assert client.get(f"/incidents/{world['incident'].id}/suspects?hours=99999999999"
                      ).status_code == 400


def test_rollback_goes_through_the_request_path_with_the_reason(client, login_as, world,
                                                                session, queue):
    bad = deploy(session, world, "order-s", tag="v2.0.1", ago=timedelta(hours=2))
    user = login_as("developer")
    assert "Request rollback" in page(client, world)
    reason = "Checkout errors started right after v2.0.1 went out"
    response = client.post_form(
        f"/incidents/{world['incident'].id}/suspects/{bad.id}/rollback", {"reason": reason})
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    job = session.scalar(select(Job).where(Job.template == "service-rollback"))
    assert response.headers["Location"].endswith(f"/selfservice/jobs/{job.id}")
    assert job.params["reverts_job"] == str(bad.id)
    assert job.params["reverts_commit"] == bad.result["commit"]
    assert job.params["reason"] == reason and job.requested_by_id == user.id
    assert (job.gate, job.status, job.phase) == ("approval", "queued", "plan")
    entry = session.scalar(select(TimelineEntry).where(
        TimelineEntry.incident_id == world["incident"].id,
        TimelineEntry.summary.contains("requested a rollback")))
    assert entry.summary.startswith(f"{user.name} requested a rollback of order-s in prod")
    assert reason in entry.summary and entry.actor_email == user.email
    audited = {a.action: a for a in session.scalars(select(AuditEntry).where(
        AuditEntry.target_id == str(job.id)))}
    assert audited["incidents.suspect_rollback"].details["reason"] == reason
    assert audited["selfservice.request"].actor_email == user.email
    with Connection(BROKER_URL) as conn:
        message = conn.SimpleQueue(queue).get(timeout=10)
        assert message.headers["id"] == str(job.id)
        message.ack()
    again = client.post_form(
        f"/incidents/{world['incident'].id}/suspects/{bad.id}/rollback", {"reason": reason})
    assert again.status_code == 409 and "already requested" in again.get_data(as_text=True)


def test_an_exhausted_error_budget_refuses_a_prod_rollback(client, login_as, world, session):
    bad = deploy(session, world, "order-s", tag="v2.0.1", ago=timedelta(hours=2))
    slo = make_slo(session, world["svc"]["order-s"], objective="99.9")
    fill(session, slo, end=NOW - timedelta(hours=3), minutes=5, good=90, total=100)
    session.commit()
    login_as("developer")
    response = client.post_form(
        f"/incidents/{world['incident'].id}/suspects/{bad.id}/rollback",
        {"reason": "Checkout errors started right after v2.0.1"})
    assert response.status_code == 409
    body = response.get_data(as_text=True)
    assert 'id="rollback-refused"' in body and "error budget is exhausted" in body
    assert session.scalar(select(Job).where(Job.template == "service-rollback")) is None


def test_only_the_live_deploy_can_be_rolled_back(client, login_as, world, session):
    older = deploy(session, world, "order-s", tag="v2.0.1", ago=timedelta(hours=3))
    deploy(session, world, "order-s", tag="v2.0.2", ago=timedelta(hours=2))
    failed = deploy(session, world, "order-s", tag="v2.0.3", ago=timedelta(minutes=90),
                    status="failed")
    login_as("manager")
    base = f"/incidents/{world['incident'].id}/suspects"
    later = client.post_form(f"{base}/{older.id}/rollback", {"reason": "suspect release here"})
    assert later.status_code == 409 and "v2.0.2" in later.get_data(as_text=True)
    assert "roll that one back first" in later.get_data(as_text=True)
    nothing = client.post_form(f"{base}/{failed.id}/rollback", {"reason": "suspect release"})
    assert nothing.status_code == 409 and "nothing of it to roll back" in nothing.get_data(
        as_text=True)
    elsewhere = deploy(session, world, "unrelated-s", tag="v9", ago=timedelta(hours=2))
    assert client.post_form(f"{base}/{elsewhere.id}/rollback",
                            {"reason": "not this incident"}).status_code == 404
    assert client.post_form(f"{base}/not-a-job/rollback",
                            {"reason": "not a job at all"}).status_code == 404
    assert session.scalar(select(Job).where(Job.template == "service-rollback")) is None


@pytest.mark.parametrize("roles", [("tenant_viewer",), ("oncall",)])
def test_people_who_cannot_request_deploys_cannot_roll_back(client, login_as, world, session,
                                                            roles):
    bad = deploy(session, world, "order-s", tag="v2.0.1", ago=timedelta(hours=2))
    login_as(*roles)
    url = f"/incidents/{world['incident'].id}"
    response = client.get(url)
    if roles == ("tenant_viewer",):
        assert response.status_code == 403
        assert client.get(f"{url}/suspects").status_code == 403
    else:
        assert "v2.0.1" in response.get_data(as_text=True)
        assert "Request rollback" not in response.get_data(as_text=True)
    posted = client.post_form(f"{url}/suspects/{bad.id}/rollback",
                              {"reason": "I should not be able to do this"})
    assert posted.status_code == 403
    assert session.scalar(select(Job).where(Job.template == "service-rollback")) is None


def test_hostile_rollback_posts_are_refused(client, login_as, world, session):
    bad = deploy(session, world, "order-s", tag="v2.0.1", ago=timedelta(hours=2))
    login_as("developer")
    url = f"/incidents/{world['incident'].id}/suspects/{bad.id}/rollback"
    no_csrf = client.post(url, data={"reason": "Checkout errors after the deploy"})
    assert no_csrf.status_code == 400
    assert client.post_form(url, {"reason": "bad\x00reason here"}).status_code == 400
    huge = client.post_form(url, {"reason": "x" * 100_000})
    assert huge.status_code == 422 and "at most 1,000 characters" in huge.get_data(as_text=True)
    short = client.post_form(url, {"reason": "oops"})
    assert short.status_code == 422 and "Say why" in short.get_data(as_text=True)
    control = client.post_form(url, {"reason": "bell \x07 in the reason text"})
    assert control.status_code == 422
    assert session.scalar(select(Job).where(Job.template == "service-rollback")) is None


def statements_for_page(client, connection, url: str) -> int:
    seen = []

    def count(*args):
        seen.append(1)
    event.listen(connection, "before_cursor_execute", count)
    try:
        assert client.get(url).status_code == 200
    finally:
        event.remove(connection, "before_cursor_execute", count)
    return len(seen)


def test_statement_count_does_not_grow_with_the_number_of_changes(client, login_as, world,
                                                                  session, connection):
    def add(n: int) -> None:
        for i in range(n):
            slug = ("order-s", "payment-s", "ledger-s")[i % 3]
            deploy(session, world, slug, tag=f"v{i}", ago=timedelta(minutes=5 + i))
            if i % 5 == 0:
                silence(session, slug, ago=timedelta(minutes=5 + i), comment=f"silence {i}")

    login_as("developer")
    url = f"/incidents/{world['incident'].id}"
    add(10)
    client.get(url)  # what other panels cache across requests is warm, as in production
    with_10 = statements_for_page(client, connection, url)
    assert len(rows(client.get(url).get_data(as_text=True))) == 12
    add(90)
    with_100 = statements_for_page(client, connection, url)
    assert len(rows(client.get(url).get_data(as_text=True))) == 120
    assert with_100 == with_10


def test_playbook_runs_and_terraform_applies_show_what_they_changed(client, login_as, world,
                                                                    session, queue):
    team = world["svc"]["order-s"].team
    edge = catalog.upsert_service(session=session, slug="edge-nodes", team=team,
                                  kind="infrastructure", name="Edge nodes")
    catalog.set_dependencies(session=session, service=world["svc"]["ledger-s"],
                             depends_on={"edge-nodes": "cache"})
    session.commit()
    requester = login_as("developer")
    patch = selfservice.request_job(session=session, template_slug="edge-patching",
                                    raw={"group": "edge_us_east", "playbook": "upgrade"},
                                    requester=requester)
    assert patch.service_id == edge.id  # the template names the catalog entry it changes
    patch.phase, patch.status, patch.finished_at = "apply", "succeeded", NOW - timedelta(hours=2)
    patch.result = {"check": False, "hosts": {"edge-use1-01": {"changed": 2}}}
    apply = Job(id=uuid.uuid4(), template="staging-environment", action="create", tier="staging",
                target="terraform:shop-cache", params={"name": "shop-cache"}, gate="confirm",
                status="succeeded", phase="apply", service=world["svc"]["payment-s"],
                requested_by=world["deployer"], finished_at=NOW - timedelta(hours=4),
                result={"add": 3, "change": 1, "destroy": 0, "outputs": {}})
    session.add(apply)
    session.commit()
    shown = rows(page(client, world))
    ansible = next(r for r in shown if 'data-kind="ansible"' in r)
    assert "upgrade.yml on edge_us_east (for real)" in ansible
    assert "via payment-s → ledger-s" in ansible and "Roll back" in ansible
    assert "previous successful playbook" in ansible
    terraform = next(r for r in shown if 'data-kind="terraform"' in r)
    assert "create shop-cache: +3 ~1 -0" in terraform and "Roll back" in terraform
    assert "previous successful parameters" in terraform
