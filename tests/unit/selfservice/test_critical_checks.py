"""Deploys of a service failing critical readiness checks: a warning on the form (inline,
htmx) and on the job page; prod deploys refused, with the checks listed, only when
SELFSERVICE_BLOCK_PROD_ON_CRITICAL_CHECKS is on.

The `order` service of the fixture has no on-call schedule, SLO or runbooks, so the
catalog's real scorecard (portal.catalog.readiness) fails critical checks for it.
"""
import pytest

from portal.catalog import service as catalog
from portal.selfservice import service
from portal.selfservice.models import Job

FAILING = "On-call schedule set"  # one of the critical checks the bare `order` fails


@pytest.fixture
def block(app, monkeypatch):
    def _set(value: bool):
        monkeypatch.setitem(app.config, "SELFSERVICE_BLOCK_PROD_ON_CRITICAL_CHECKS", value)
    return _set


def deploy(session, user, environment="prod", tag="v4.2.1"):
    return service.request_job(session=session, template_slug="service-deploy",
                               raw={"service": "order", "environment": environment,
                                    "image_tag": tag}, requester=user)


def test_the_fixture_service_really_fails_critical_checks(session, meridian):
    failing = catalog.critical_checks_failing(session=session, service_id=meridian["order"].id)
    assert any(item.startswith(FAILING) for item in failing)


def test_setting_defaults_to_warning_only(app):
    assert app.config["SELFSERVICE_BLOCK_PROD_ON_CRITICAL_CHECKS"] is False


@pytest.mark.parametrize("blocking", [False, True])
def test_prod_deploy_is_refused_with_the_checks_only_when_configured(
        app, session, make_user, meridian, sent, block, blocking):
    block(blocking)
    dev = make_user("developer")
    if not blocking:
        assert deploy(session, dev).status == "queued"
        return
    with pytest.raises(service.Refused) as refused:
        deploy(session, dev)
    [reason] = refused.value.reasons
    assert "critical readiness checks are blocked" in reason and FAILING in reason
    assert session.query(Job).count() == 0


def test_staging_deploys_and_rollbacks_are_never_blocked(app, session, make_user, meridian,
                                                         sent, block):
    block(True)
    assert deploy(session, make_user("developer"), environment="staging").status == "queued"
    with pytest.raises(service.Refused) as refused:  # refused, but for its own reason
        service.request_job(session=session, template_slug="service-rollback",
                            raw={"service": "order", "environment": "prod"},
                            requester=make_user("developer"))
    assert all("critical" not in r for r in refused.value.reasons)


def test_approval_rechecks_the_block(app, session, make_user, meridian, sent, block):
    block(False)
    job = deploy(session, make_user("developer"))
    job.status, job.plan = "awaiting_approval", {"from": "v4.2.0", "to": "v4.2.1"}
    block(True)
    with pytest.raises(service.Refused, match=FAILING):
        service.approve(session=session, job=job, approver=make_user("manager"))
    block(False)
    service.approve(session=session, job=job, approver=make_user("manager"))
    assert job.status == "queued" and job.phase == "apply"


def test_no_warning_and_no_block_when_the_checks_pass(app, session, make_user, meridian, sent,
                                                      block, monkeypatch, client, login_as):
    monkeypatch.setattr(catalog, "critical_checks_failing", lambda **kw: [])
    block(True)
    assert deploy(session, make_user("developer")).status == "queued"
    login_as("developer")
    html = client.get("/selfservice/templates/service-deploy").get_data(as_text=True)
    assert 'id="critical-checks"' in html and "critical-checks-warning" not in html


@pytest.mark.parametrize("blocking", [False, True])
def test_form_warns_inline_when_the_service_is_chosen(client, login_as, meridian, block,
                                                      blocking):
    block(blocking)
    login_as("developer")
    html = client.get("/selfservice/templates/service-deploy").get_data(as_text=True)
    assert 'id="critical-checks-warning"' in html and FAILING in html  # order is preselected
    assert 'hx-get="/selfservice/templates/service-deploy/critical-checks"' in html
    assert 'hx-trigger="change from:#service, change from:#environment"' in html
    fragment = client.htmx("GET", "/selfservice/templates/service-deploy/critical-checks",
                           query_string={"service": "order", "environment": "prod"})
    text = fragment.get_data(as_text=True)
    assert fragment.status_code == 200 and FAILING in text
    assert ("Prod deploys of it are blocked" in text) is blocking
    staging = client.htmx("GET", "/selfservice/templates/service-deploy/critical-checks",
                          query_string={"service": "order", "environment": "staging"})
    assert "blocked" not in staging.get_data(as_text=True)
    assert FAILING in staging.get_data(as_text=True)


def test_inline_warning_for_unknown_or_missing_service_is_empty(client, login_as, meridian):
    login_as("developer")
    for query in ({"service": "no-such-service"}, {}):
        response = client.htmx("GET", "/selfservice/templates/service-deploy/critical-checks",
                               query_string=query)
        assert response.status_code == 200
        assert "critical-checks-warning" not in response.get_data(as_text=True)
    assert client.get("/selfservice/templates/nope/critical-checks").status_code == 404


def test_refused_submit_lists_the_checks(client, login_as, meridian, session, block):
    block(True)
    login_as("developer")
    response = client.post_form("/selfservice/templates/service-deploy",
                                {"service": "order", "environment": "prod",
                                 "image_tag": "v4.2.1"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="policy-refusal"' in html and FAILING in html
    assert session.query(Job).count() == 0


@pytest.mark.parametrize("blocking", [False, True])
def test_job_page_shows_the_warning_while_the_deploy_is_open(client, login_as, meridian, session,
                                                             make_user, sent, block, blocking):
    block(False)
    job = deploy(session, make_user("developer"))
    session.commit()
    block(blocking)
    login_as("manager")
    html = client.get(f"/selfservice/jobs/{job.id}").get_data(as_text=True)
    assert 'id="critical-checks-warning"' in html and FAILING in html
    assert ("Prod deploys of it are blocked" in html) is blocking
    poll = client.htmx("GET", f"/selfservice/jobs/{job.id}").get_data(as_text=True)
    assert 'id="job-status"' in poll and "critical-checks" not in poll  # not scored per poll
    service.cancel(session=session, job=job, user=job.requested_by)
    session.commit()
    html = client.get(f"/selfservice/jobs/{job.id}").get_data(as_text=True)
    assert "critical-checks-warning" not in html  # history, not a live warning
