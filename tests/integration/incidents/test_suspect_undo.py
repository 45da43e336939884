"""Rolling back every kind of suspect change from an incident page, through the real app
on the real PostgreSQL, RabbitMQ and a real Alertmanager started for this module.

Terraform applies and Ansible runs are rolled back by requesting the same template with
the previous successful parameters through the self-service request path; silences are
expired or re-created in Alertmanager. The incident is on `order-s`, which depends on
`payment-s` (the service a staging environment serves) and on `edge-nodes` through it.
"""
from __future__ import annotations

import secrets
from datetime import timedelta

import pytest
from kombu import Connection
from sqlalchemy import select

from portal.auth.models import AuditEntry
from portal.catalog import service as catalog
from portal.db import utcnow
from portal.incidents import service as incidents
from portal.incidents.models import TimelineEntry
from portal.integrations.alertmanager import AlertmanagerClient, Matcher
from portal.oncall import silence_ledger, silences
from portal.oncall.silence_ledger import LedgerSilence
from portal.selfservice import service as selfservice
from portal.selfservice.models import Job
from tests.conftest import BROKER_URL
from tests.integration.oncall.amserver import running_alertmanager

pytestmark = pytest.mark.integration
REASON = "Errors started right after this change went out"


@pytest.fixture(scope="module")
def alertmanager_url(tmp_path_factory):
    """Base URL of a real Alertmanager started for this module."""
    with running_alertmanager(tmp_path_factory.mktemp("alertmanager")) as url:
        yield url


@pytest.fixture
def queue(app):
    """A RabbitMQ queue of this test's own for the self-service tasks; deleted after."""
    name = f"undo-{secrets.token_hex(4)}"
    app.config["SELFSERVICE_QUEUE"] = name
    yield name
    with Connection(BROKER_URL) as conn:
        conn.default_channel.queue_delete(name)


@pytest.fixture
def world(session, make_user, queue):
    team = catalog.upsert_team(session=session, slug="shop-u", name="Shop", chat_channel=None)
    other = catalog.upsert_team(session=session, slug="else-u", name="Else", chat_channel=None)
    svc = {slug: catalog.upsert_service(session=session, slug=slug, team=team, kind="service",
                                        name=slug.title())
           for slug in ("order-u", "payment-u")}
    svc["foreign-u"] = catalog.upsert_service(session=session, slug="foreign-u", team=other,
                                              kind="service", name="Foreign")
    svc["edge-nodes"] = catalog.upsert_service(session=session, slug="edge-nodes", team=team,
                                               kind="infrastructure", name="Edge nodes")
    catalog.set_dependencies(session=session, service=svc["order-u"],
                             depends_on={"payment-u": "charges"})
    catalog.set_dependencies(session=session, service=svc["payment-u"],
                             depends_on={"edge-nodes": "cache"})
    incident = incidents.declare(session=session, title="Checkout fails", severity="sev2",
                                 actor_email="oncall@test.example", service_slugs=["order-u"],
                                 opened_at=utcnow() - timedelta(hours=1))
    owner = make_user("developer", email=f"olga-{secrets.token_hex(2)}@test.example")
    session.commit()
    return {"svc": svc, "incident": incident, "owner": owner, "team": team}


def applied(session, job: Job, *, ago: timedelta) -> Job:
    """The job as the worker leaves it after a successful apply `ago` before now."""
    job.phase, job.status, job.finished_at = "apply", "succeeded", utcnow() - ago
    if job.environment is not None:
        job.environment.status = "active"
    session.commit()
    return job


def environment_history(session, world):
    """A staging environment serving payment-u: created with 1 replica, then changed to 3."""
    raw = {"name": "shop-u-cache", "team": "shop-u", "cost_center": "cc-1234",
           "replicas": "1", "service": "payment-u"}
    created = applied(session, selfservice.request_job(
        session=session, template_slug="staging-environment", raw=raw,
        requester=world["owner"]), ago=timedelta(hours=5))
    changed = applied(session, selfservice.request_job(
        session=session, template_slug="staging-environment", raw={**raw, "replicas": "3"},
        requester=world["owner"], environment=created.environment), ago=timedelta(hours=2))
    return created, changed


def queued_ids(queue: str, count: int) -> list[str]:
    """The task ids of the first `count` messages on the test's queue."""
    ids = []
    with Connection(BROKER_URL) as conn:
        waiting = conn.SimpleQueue(queue)
        for _ in range(count):
            message = waiting.get(timeout=10)
            ids.append(message.headers["id"])
            message.ack()
    return ids


def url(world, tail: str) -> str:
    return f"/incidents/{world['incident'].id}/suspects/{tail}"


def timeline_with(session, world, text: str) -> TimelineEntry | None:
    return session.scalar(select(TimelineEntry).where(
        TimelineEntry.incident_id == world["incident"].id,
        TimelineEntry.summary.contains(text)))


def test_an_environment_serving_a_service_lands_on_it(session, world):
    created, changed = environment_history(session, world)
    assert created.service_id == changed.service_id == world["svc"]["payment-u"].id
    assert (changed.action, changed.environment_id) == ("update", created.environment_id)
    plain = selfservice.request_job(
        session=session, template_slug="dev-environment", requester=world["owner"],
        raw={"name": "shop-u-sandbox", "team": "shop-u", "cost_center": "cc-1234"})
    assert plain.service_id is None and plain.params["service"] == ""
    with pytest.raises(selfservice.Refused, match="belongs to another team"):
        selfservice.request_job(
            session=session, template_slug="staging-environment", requester=world["owner"],
            raw={"name": "shop-u-other", "team": "shop-u", "cost_center": "cc-1234",
                 "service": "foreign-u"})


def test_terraform_rollback_applies_the_previous_parameters(client, login_as, session, world,
                                                            queue):
    created, changed = environment_history(session, world)
    user = login_as("developer")
    body = client.get(f"/incidents/{world['incident'].id}").get_data(as_text=True)
    row = next(r for r in body.split('<tr class="suspect"')[1:]
               if 'data-kind="terraform"' in r and str(changed.id) in r)
    assert "Request rollback" in row and "dependency of order-u" in row
    response = client.post_form(url(world, f"{changed.id}/rollback"), {"reason": REASON})
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    job = session.scalar(select(Job).where(Job.params["reverts_job"].astext == str(changed.id)))
    assert response.headers["Location"].endswith(f"/selfservice/jobs/{job.id}")
    assert (job.template, job.action, job.environment_id) == (
        "staging-environment", "update", created.environment_id)
    assert job.params["replicas"] == 1 and job.params["restores_job"] == str(created.id)
    assert job.params["reason"] == REASON and job.requested_by_id == user.id
    # The plan runs first and the requester reviews it (with its Rego verdicts) to apply.
    assert (job.gate, job.status, job.phase) == ("confirm", "queued", "plan")
    entry = timeline_with(session, world, "requested a rollback of the environment")
    assert REASON in entry.summary and entry.details["job_id"] == str(job.id)
    audited = {a.action for a in session.scalars(select(AuditEntry).where(
        AuditEntry.target_id == str(job.id)))}
    assert {"incidents.suspect_rollback", "selfservice.request"} <= audited
    assert str(job.id) in queued_ids(queue, 3)  # after the history's two setup requests
    again = client.post_form(url(world, f"{changed.id}/rollback"), {"reason": REASON})
    assert again.status_code == 409 and "already requested" in again.get_data(as_text=True)


def test_terraform_rollback_is_refused_without_an_earlier_apply(client, login_as, session,
                                                                world):
    created, changed = environment_history(session, world)
    login_as("developer")
    first = client.post_form(url(world, f"{created.id}/rollback"), {"reason": REASON})
    text = first.get_data(as_text=True)
    assert first.status_code == 409 and "no earlier successful apply" in text
    assert "this apply created it" in text
    created.environment.status = "destroyed"
    session.commit()
    gone = client.post_form(url(world, f"{changed.id}/rollback"), {"reason": REASON})
    assert gone.status_code == 409 and "is destroyed" in gone.get_data(as_text=True)
    assert session.scalar(select(Job).where(Job.params.has_key("reverts_job"))) is None


def test_ansible_rollback_runs_the_previous_playbook_again(client, login_as, session, world):
    def run(playbook: str, ago: timedelta) -> Job:
        return applied(session, selfservice.request_job(
            session=session, template_slug="edge-patching", requester=world["owner"],
            raw={"group": "edge_us_east", "playbook": playbook}), ago=ago)

    before, suspect = run("addons", timedelta(hours=5)), run("upgrade", timedelta(hours=2))
    login_as("manager")
    response = client.post_form(url(world, f"{suspect.id}/rollback"), {"reason": REASON})
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    job = session.scalar(select(Job).where(Job.params["reverts_job"].astext == str(suspect.id)))
    assert job.params["playbook"] == "addons" and job.params["group"] == "edge_us_east"
    assert job.params["restores_job"] == str(before.id) and job.params["reason"] == REASON
    assert (job.gate, job.phase, job.service_id) == ("approval", "plan",
                                                     world["svc"]["edge-nodes"].id)
    assert timeline_with(session, world, "edge_us_east with edge-patching") is not None
    none = client.post_form(url(world, f"{before.id}/rollback"), {"reason": REASON})
    assert none.status_code == 409
    assert "no earlier successful run of edge_us_east" in none.get_data(as_text=True)


@pytest.fixture
def am(app, alertmanager_url):
    app.config.update(ALERTMANAGER_URL=alertmanager_url, ONCALL_SILENCE_MAX_HOURS=72)
    return AlertmanagerClient(alertmanager_url, timeout=3)


def portal_silence(session, am, slug: str, *, hours: int = 4) -> LedgerSilence:
    """A silence made as the silences page makes one: in Alertmanager and in the ledger."""
    now = utcnow()
    request = silences.SilenceRequest(
        matchers=(Matcher("service", slug), Matcher("run", secrets.token_hex(4))),
        starts_at=now, ends_at=now + timedelta(hours=hours), comment="noisy during failover")
    sid = silences.create(session=session, client=am, request=request,
                          actor_email="sam@test.example", max_hours=72)
    silence_ledger.record(session=session, silence_id=sid, matchers=request.matchers,
                          starts_at=request.starts_at, ends_at=request.ends_at,
                          created_by="sam@test.example", comment=request.comment)
    session.commit()
    return silence_ledger.get(session=session, silence_id=sid)


def test_a_silence_is_expired_then_recreated_until_its_end(client, login_as, session, world,
                                                           am):
    entry = portal_silence(session, am, "payment-u")
    user = login_as("oncall")
    body = client.get(f"/incidents/{world['incident'].id}").get_data(as_text=True)
    assert "Expire silence" in body
    expired = client.post_form(url(world, f"silences/{entry.silence_id}/expire"),
                               {"reason": REASON})
    assert expired.status_code == 303, expired.get_data(as_text=True)[:2000]
    assert am.get_silence(entry.silence_id).state == "expired"
    session.refresh(entry)
    assert entry.expired_at is not None
    assert timeline_with(session, world, f"expired silence {entry.silence_id[:8]}") is not None
    audited = session.scalar(select(AuditEntry).where(
        AuditEntry.action == "incidents.suspect_silence_undo",
        AuditEntry.target_id == entry.silence_id))
    assert audited.details["reason"] == REASON and audited.actor_email == user.email
    over = client.post_form(url(world, f"silences/{entry.silence_id}/expire"),
                            {"reason": REASON})
    assert over.status_code == 409 and "already over" in over.get_data(as_text=True)

    assert "Re-create silence" in client.get(
        f"/incidents/{world['incident'].id}").get_data(as_text=True)
    back = client.post_form(url(world, f"silences/{entry.silence_id}/recreate"),
                            {"reason": REASON})
    assert back.status_code == 303, back.get_data(as_text=True)[:2000]
    new = session.scalar(select(LedgerSilence).where(LedgerSilence.created_by == user.email))
    live = am.get_silence(new.silence_id)
    assert live.state == "active" and set(live.matchers) == set(entry.matcher_tuple())
    assert abs((live.ends_at - entry.ends_at).total_seconds()) < 1
    assert REASON in live.comment and live.created_by == user.email
    twice = client.post_form(url(world, f"silences/{entry.silence_id}/recreate"),
                             {"reason": REASON})
    assert twice.status_code == 409 and "already exists" in twice.get_data(as_text=True)


def test_silence_undo_refusals_and_roles(client, login_as, session, world, am):
    entry = portal_silence(session, am, "payment-u")
    elsewhere = portal_silence(session, am, "foreign-u")
    login_as("developer")
    target = url(world, f"silences/{entry.silence_id}/expire")
    assert client.post_form(target, {"reason": REASON}).status_code == 403
    assert "Expire silence" not in client.get(
        f"/incidents/{world['incident'].id}").get_data(as_text=True)
    client.post_form("/logout")
    login_as("oncall")
    assert client.post(target, data={"reason": REASON}).status_code == 400  # no CSRF token
    assert client.post_form(target, {"reason": "bad\x00reason here"}).status_code == 400
    assert client.post_form(target, {"reason": "x" * 100_000}).status_code == 422
    assert client.post_form(target, {"reason": "oops"}).status_code == 422
    for tail in (f"silences/{elsewhere.silence_id}/expire", f"silences/{entry.silence_id}/burn",
                 "silences/no-such-silence/expire", f"silences/{'a' * 300}/expire"):
        assert client.post_form(url(world, tail), {"reason": REASON}).status_code == 404, tail
    assert client.post_form(url(world, "silences/%00%ff/expire"),
                            {"reason": REASON}).status_code == 400
    recreate = client.post_form(url(world, f"silences/{entry.silence_id}/recreate"),
                                {"reason": REASON})
    assert recreate.status_code == 409 and "not expired early" in recreate.get_data(
        as_text=True)
    assert am.get_silence(entry.silence_id).state == "active"


def test_oncall_cannot_roll_back_jobs_and_hostile_reasons_are_refused(client, login_as,
                                                                      session, world):
    created, changed = environment_history(session, world)
    target = url(world, f"{changed.id}/rollback")
    login_as("oncall")
    assert client.post_form(target, {"reason": REASON}).status_code == 403
    client.post_form("/logout")
    login_as("developer")
    assert client.post(target, data={"reason": REASON}).status_code == 400
    assert client.post_form(target, {"reason": "bell \x07 in the reason text"}).status_code == 422
    assert client.post_form(target, {"reason": "x" * 100_000}).status_code == 422
    assert session.scalar(select(Job).where(Job.params.has_key("reverts_job"))) is None
