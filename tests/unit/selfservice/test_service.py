"""Requests, policy and the job state machine (service layer, no worker)."""
import pytest

from portal.catalog import service as catalog
from portal.selfservice import policy, service
from portal.selfservice.models import Job
from portal.slo import service as slo
from tests.unit.selfservice.conftest import dev_env_params


def request(session, user, slug="dev-environment", **params):
    return service.request_job(session=session, template_slug=slug,
                               raw=params or dev_env_params(), requester=user)


def test_request_queues_a_plan_with_cost_tags_and_sends_after_commit(app, session, make_user,
                                                                     meridian, sent):
    dev = make_user("developer")
    job = request(session, dev)
    assert (job.status, job.phase, job.gate, job.tier) == ("queued", "plan", "confirm", "dev")
    assert job.target == "terraform:platform-feature-x"
    assert job.environment.tags == {"owner": dev.email, "team": "platform",
                                    "cost-center": "cc-1001", "environment": "dev"}
    assert job.environment.expires_at is not None
    assert sent == []  # not before the commit
    session.commit()
    assert sent == [str(job.id)]


@pytest.mark.parametrize("field,value,message", [
    ("name", '"; rm -rf /', "cannot contain '\"', ';', space and '/'"),
    ("name", "platform-${file(\"/etc/passwd\")}", "Template expressions"),
    ("name", "platform-a\nplatform-b", "Line breaks"),
    ("cost_center", "cc-1001; curl evil", "cannot contain ';' and space"),
    ("replicas", "1 && reboot", "Shell characters are not allowed here: '&'."),
    ("replicas", "9", "between 1 and 3"),
    ("team", "nosuchteam", "Choose one of"),
    ("name", "Platform_X", "lowercase letters"),
])
def test_injection_and_bad_values_are_refused_with_a_clear_message(app, session, make_user,
                                                                   meridian, field, value,
                                                                   message):
    with pytest.raises(service.InvalidParameters) as refused:
        request(session, make_user("developer"), **dev_env_params(**{field: value}))
    assert message in refused.value.errors[field]
    assert session.query(Job).count() == 0


def test_image_tag_injection_is_refused(app, session, make_user, meridian):
    with pytest.raises(service.InvalidParameters) as refused:
        request(session, make_user("developer"), slug="service-deploy", service="order",
                environment="staging", image_tag="v1$(id)")
    assert refused.value.errors["image_tag"].startswith(
        "Image tag cannot contain '$', '(' and ')'. Use an image tag:")


def test_a_bad_name_is_told_exactly_which_characters_are_not_allowed(app, session, make_user,
                                                                      meridian):
    with pytest.raises(service.InvalidParameters) as refused:
        request(session, make_user("developer"), **dev_env_params(name="Bad_Name!"))
    assert refused.value.errors["name"] == (
        "Environment name cannot contain 'B', '_', 'N' and '!'. Use 3-40 lowercase letters, "
        "digits or dashes, starting with your team's slug and a dash (for example "
        "platform-checkout-v2).")
    with pytest.raises(service.InvalidParameters) as refused:
        request(session, make_user("developer"), **dev_env_params(name="9platform-x"))
    assert refused.value.errors["name"].startswith("Environment name is not valid. Use 3-40")


def test_unknown_template(app, session, make_user):
    with pytest.raises(service.UnknownTemplate):
        request(session, make_user("developer"), slug="mine-bitcoin", name="x")


@pytest.mark.parametrize("name,reason", [
    ("staging", "reserved"),
    ("checkout-env", "start with the owning team's slug"),
])
def test_naming_rules(app, session, make_user, meridian, name, reason):
    with pytest.raises(service.Refused) as refused:
        request(session, make_user("developer"), **dev_env_params(name=name))
    assert reason in refused.value.reasons[0]


def test_a_live_name_cannot_be_taken_twice(app, session, make_user, meridian, sent):
    request(session, make_user("developer"))
    with pytest.raises(service.Refused, match="already exists"):
        request(session, make_user("developer"))


def test_missing_cost_tag_is_a_reason():
    assert policy._tag_reasons({"owner": "a", "team": "", "cost-center": "cc-1",
                                "environment": "dev"}) == [
        "Missing required cost tag(s): team.", "The cost-center tag must look like cc-1234."]


def test_prod_deploy_needs_a_second_persons_approval(app, session, make_user, meridian, sent):
    dev, manager, other_dev = make_user("developer"), make_user("manager"), make_user("developer")
    job = request(session, dev, slug="service-deploy", service="order", environment="prod",
                  image_tag="v4.2.1")
    assert job.gate == "approval" and job.service.slug == "order"
    job.status, job.plan = "awaiting_approval", {"from": "v4.2.0", "to": "v4.2.1"}
    with pytest.raises(service.Refused, match="second person"):
        service.approve(session=session, job=job, approver=dev)
    with pytest.raises(service.Refused, match="Only managers"):
        service.approve(session=session, job=job, approver=other_dev)
    self_manager = make_user("developer", "manager")
    own = request(session, self_manager, slug="service-deploy", service="order",
                  environment="prod", image_tag="v4.2.2")
    own.status = "awaiting_approval"
    with pytest.raises(service.Refused, match="second person"):
        service.approve(session=session, job=own, approver=self_manager)
    service.approve(session=session, job=job, approver=manager)
    assert (job.status, job.phase, job.approved_by) == ("queued", "apply", manager)
    entries = catalog.timeline(session=session, service=meridian["order"])
    assert entries[0].summary == "Self-service deploy of v4.2.1 to prod: approved"
    assert entries[0].actor_email == manager.email
    assert job.id in [j.id for j in service.service_jobs(session=session,
                                                         service_id=meridian["order"].id)]


def test_staging_deploy_syncs_without_a_gate(app, session, make_user, meridian, sent):
    job = request(session, make_user("developer"), slug="service-deploy", service="order",
                  environment="staging", image_tag="v4.2.1")
    assert job.gate == "auto"


def test_prod_deploy_is_refused_while_the_error_budget_is_exhausted(app, session, make_user,
                                                                     meridian, monkeypatch):
    reason = "Production deploys of Order Service are frozen: its error budget is exhausted."
    calls = []

    def frozen(*, session, service_id, environment="prod"):
        calls.append((service_id, environment))
        return reason if environment == "prod" else None

    monkeypatch.setattr(slo, "deploy_freeze", frozen)
    with pytest.raises(service.Refused) as refused:
        request(session, make_user("developer"), slug="service-deploy", service="order",
                environment="prod", image_tag="v4.2.1")
    assert refused.value.reasons == [reason]
    assert calls == [(meridian["order"].id, "prod")]
    job = request(session, make_user("developer"), slug="service-deploy", service="order",
                  environment="staging", image_tag="v4.2.1")
    assert job.status == "queued"


def test_rollback_without_a_previous_deploy_is_refused(app, session, make_user, meridian):
    with pytest.raises(service.Refused, match="no deploy"):
        request(session, make_user("developer"), slug="service-rollback", service="order",
                environment="staging")


def test_cancel_waiting_job_at_once_and_running_job_at_next_heartbeat(app, session, make_user,
                                                                      meridian, sent):
    dev = make_user("developer")
    job = request(session, dev)
    service.cancel(session=session, job=job, user=dev)
    assert job.status == "cancelled" and job.environment.status == "destroyed"
    running = request(session, dev, **dev_env_params(name="platform-two"))
    running.status = "running"
    service.cancel(session=session, job=running, user=dev)
    assert running.status == "running" and running.cancel_requested
    with pytest.raises(service.Refused, match="already cancelled"):
        service.cancel(session=session, job=job, user=dev)


def test_retry_creates_a_new_linked_job(app, session, make_user, meridian, sent):
    dev = make_user("developer")
    job = request(session, dev)
    service.finish(session=session, job=job, status="failed", reason="boom")
    new = service.retry(session=session, job=job, user=dev)
    assert new.id != job.id and new.retry_of_id == job.id and new.status == "queued"
    assert new.params == job.params


def test_confirm_only_by_the_requester(app, session, make_user, meridian, sent):
    dev, other = make_user("developer"), make_user("developer")
    job = request(session, dev)
    job.status = "awaiting_approval"
    with pytest.raises(service.Refused, match="requested this job confirms"):
        service.confirm(session=session, job=job, user=other)
    service.confirm(session=session, job=job, user=dev)
    assert (job.status, job.phase) == ("queued", "apply")
