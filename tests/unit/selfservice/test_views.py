"""Self-service pages: permissions, the generated form, inline validation, log tailing."""
import pytest

from portal.auth.models import AuditEntry
from portal.selfservice import service
from portal.selfservice.models import Job, JobLog
from tests.unit.selfservice.conftest import dev_env_params


@pytest.mark.parametrize("roles,url,status", [
    (("developer",), "/selfservice/", 200),
    (("manager",), "/selfservice/", 200),
    (("oncall",), "/selfservice/", 403),
    (("tenant_viewer",), "/selfservice/", 403),
    (("developer",), "/selfservice/approvals", 403),
    (("manager",), "/selfservice/approvals", 200),
    (("admin",), "/selfservice/approvals", 200),
    (("developer",), "/selfservice/templates/dev-environment", 200),
    (("developer",), "/selfservice/templates/no-such-template", 404),
])
def test_permission_matrix(client, login_as, meridian, roles, url, status):
    login_as(*roles)
    assert client.get(url).status_code == status


def test_form_is_generated_from_the_declared_parameters(client, login_as, meridian):
    login_as("developer")
    html = client.get("/selfservice/templates/dev-environment").get_data(as_text=True)
    for name in ("name", "team", "cost_center", "replicas", "ttl_hours"):
        assert f'name="{name}"' in html
    assert 'hx-get="/selfservice/templates/dev-environment/check/name"' in html
    assert '<option value="platform">Platform Engineering</option>' in html


def test_inline_validation_explains_the_refusal(client, login_as, meridian):
    login_as("developer")
    bad = client.htmx("GET", "/selfservice/templates/dev-environment/check/name",
                      query_string={"name": '"; rm -rf /'})
    assert bad.status_code == 200
    text = bad.get_data(as_text=True)
    assert "Environment name cannot contain &#39;&#34;&#39;, &#39;;&#39;, space and" in text
    good = client.htmx("GET", "/selfservice/templates/dev-environment/check/name",
                       query_string={"name": "platform-ok"})
    assert "Looks good." in good.get_data(as_text=True)


def test_submit_queues_a_job_and_audits(client, login_as, meridian, session, sent):
    user = login_as("developer")
    response = client.post_form("/selfservice/templates/dev-environment", dev_env_params())
    assert response.status_code == 303
    job = session.query(Job).one()
    assert response.headers["Location"].endswith(f"/selfservice/jobs/{job.id}")
    assert job.requested_by_id == user.id
    assert sent == [str(job.id)]
    entry = session.query(AuditEntry).filter_by(action="selfservice.request").one()
    assert entry.target_id == str(job.id)


@pytest.mark.parametrize("value,message", [
    ('"; rm -rf /', "Environment name cannot contain"),
    ("${jndi:ldap://x}", "Template expressions"),
    ("platform-a\nrm -rf /", "Line breaks"),
])
def test_submit_with_injection_is_422_with_the_message(client, login_as, meridian, session,
                                                       value, message):
    login_as("developer")
    response = client.post_form("/selfservice/templates/dev-environment",
                                dev_env_params(name=value))
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert session.query(Job).count() == 0


def test_policy_refusal_shows_the_reason(client, login_as, meridian):
    login_as("developer")
    response = client.post_form("/selfservice/templates/dev-environment",
                                dev_env_params(name="checkout-x"))
    assert response.status_code == 422
    assert "start with the owning team&#39;s slug" in response.get_data(as_text=True)


def test_approving_your_own_request_is_refused(client, login_as, meridian, session, sent):
    manager = login_as("developer", "manager")
    job = service.request_job(session=session, template_slug="service-deploy",
                              raw={"service": "order", "environment": "prod",
                                   "image_tag": "v9.9.9"}, requester=manager)
    job.status = "awaiting_approval"
    session.commit()
    response = client.post_form(f"/selfservice/jobs/{job.id}/approval", {"decision": "approve",
                                                                     "comment": "lgtm"})
    assert response.status_code == 409
    assert "second person" in response.get_data(as_text=True)
    assert session.get(Job, job.id).status == "awaiting_approval"


def test_log_tailing_returns_only_lines_after_the_offset(client, login_as, meridian, session,
                                                         sent):
    dev = login_as("developer")
    job = service.request_job(session=session, template_slug="dev-environment",
                              raw=dev_env_params(), requester=dev)
    job.status = "running"
    session.add_all(JobLog(job_id=job.id, seq=i, line=f"line {i}") for i in range(1, 6))
    session.commit()
    html = client.htmx("GET", f"/selfservice/jobs/{job.id}/log?after=3").get_data(as_text=True)
    assert "line 3" not in html and "line 4" in html and "line 5" in html
    assert f"/selfservice/jobs/{job.id}/log?after=5" in html  # the next poll
    job.status = "failed"
    session.commit()
    done = client.htmx("GET", f"/selfservice/jobs/{job.id}/log?after=5").get_data(as_text=True)
    assert "log-poll" not in done  # finished and nothing new: polling stops


def test_job_page_and_status_fragment(client, login_as, meridian, session, sent):
    dev = login_as("developer")
    job = service.request_job(session=session, template_slug="dev-environment",
                              raw=dev_env_params(), requester=dev)
    job.status, job.plan = "awaiting_approval", {"add": 6, "change": 0, "destroy": 0,
                                                "resources": [["terraform_data.network", "create"]]}
    session.commit()
    page = client.get(f"/selfservice/jobs/{job.id}").get_data(as_text=True)
    assert "6 to add" in page and "Confirm and apply" in page
    fragment = client.htmx("GET", f"/selfservice/jobs/{job.id}").get_data(as_text=True)
    assert fragment.lstrip().startswith("<section id=\"job-status\"")
    assert client.get("/selfservice/jobs/not-a-uuid").status_code == 404


def test_confirm_cancel_and_destroy_through_the_views(client, login_as, meridian, session, sent):
    dev = login_as("developer")
    job = service.request_job(session=session, template_slug="dev-environment",
                              raw=dev_env_params(), requester=dev)
    job.status = "awaiting_approval"
    session.commit()
    assert client.post_form(f"/selfservice/jobs/{job.id}/confirm").status_code == 303
    session.refresh(job)
    assert (job.status, job.phase) == ("queued", "apply")
    job.status, job.environment.status = "succeeded", "active"
    session.commit()
    response = client.post_form(f"/selfservice/environments/{job.environment_id}/destroy")
    assert response.status_code == 303
    session.expire_all()
    destroy_job = session.query(Job).filter_by(action="destroy").one()
    assert destroy_job.environment.status == "destroying"
    assert client.post_form(f"/selfservice/jobs/{destroy_job.id}/cancel").status_code == 303
    session.expire_all()
    assert destroy_job.status == "cancelled" and destroy_job.environment.status == "active"
    assert client.post_form(f"/selfservice/jobs/{job.id}/explode").status_code == 404


def test_home_and_service_panels(client, login_as, meridian, session, sent):
    login_as("manager")
    html = client.get("/").get_data(as_text=True)
    assert 'id="home-approvals"' in html
    page = client.get("/catalog/services/order").get_data(as_text=True)
    assert 'id="selfservice-panel"' in page and "No deploys through the portal yet." in page


def test_fields_never_carry_none_aria_attributes(client, login_as, meridian):
    # WTForms renders an attribute given None as the text "None".
    login_as("developer", "manager", "admin")
    for url in ("/selfservice/templates/dev-environment", "/admin/audit", "/slo/import"):
        html = client.get(url).get_data(as_text=True)
        assert '="None"' not in html, url
    html = client.get("/admin/audit?since=not-a-date").get_data(as_text=True)
    assert 'aria-invalid="true"' in html
