"""The deploy, rollback and Terraform request forms show the error-budget state when they
open and when the service or environment changes (htmx fragment); a prod request of a
frozen service has its submit button disabled with the reason and the manager's override
as the way past it. The server keeps refusing on its own, whatever the page showed."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest

from portal.db import utcnow
from portal.selfservice.models import Job
from portal.slo import service as slo_service
from tests.unit.slo.factories import fill, make_service, make_slo

pytestmark = pytest.mark.integration


@pytest.fixture
def frozen(session):
    """A service whose only SLO spent its budget: 10% bad against 0.1% allowed."""
    svc = make_service(session)
    svc.kind = "service"
    slo = make_slo(session, svc, objective="99.9")
    fill(session, slo, end=utcnow() - timedelta(days=1), minutes=5, good=90, total=100)
    session.commit()
    return svc


def _panel(client, slug, **args):
    response = client.htmx("GET", f"/selfservice/templates/{slug}/freeze", query_string=args)
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    return response.get_data(as_text=True)


def _button(html: str) -> str:
    return re.search(r'<button type="submit" id="submit-request"[^>]*>', html).group(0)


def test_prod_of_a_frozen_service_disables_submit_with_reason_and_break_glass(
        client, login_as, frozen):
    login_as("developer")
    html = _panel(client, "service-deploy", service=frozen.slug, environment="prod")
    assert "disabled" in _button(html)
    assert 'data-state="exhausted"' in html and 'data-blocked="yes"' in html
    assert "0.0% left, overspent by 9900.0% of the budget" in html
    assert (f"Freeze on for prod: Production deploys of {frozen.name} are frozen: its error "
            "budget is exhausted.") in html
    assert 'id="break-glass"' in html and "1 hour up to 7 days" in html
    assert f'href="/catalog/services/{frozen.slug}#slo-panel"' in html
    assert "<html" not in html


def test_staging_or_a_healthy_service_leaves_submit_enabled(client, login_as, frozen, session):
    login_as("developer")
    staging = _panel(client, "service-deploy", service=frozen.slug, environment="staging")
    assert "disabled" not in _button(staging) and "Freeze off for staging" in staging
    healthy = make_service(session)
    session.commit()
    calm = _panel(client, "service-deploy", service=healthy.slug, environment="prod")
    assert "disabled" not in _button(calm) and "no SLO defined" in calm


def test_an_override_reopens_the_button_and_says_whose(client, login_as, frozen, session):
    slo_service.grant_override(session=session, service=frozen,
                               justification="Fix for the checkout outage, INC-77",
                               hours=2, actor_email="boss@test.example")
    session.commit()
    login_as("developer")
    html = _panel(client, "service-rollback", service=frozen.slug, environment="prod")
    assert "disabled" not in _button(html)
    assert "Freeze off: overridden by boss@test.example" in html


def test_the_form_opens_with_the_panel_and_the_server_still_refuses(client, login_as, frozen,
                                                                    session):
    login_as("developer")
    page = client.get("/selfservice/templates/service-deploy").get_data(as_text=True)
    assert 'id="freeze-panel"' in page
    assert ('hx-trigger="change from:#service, change from:#environment, '
            'change from:#image_tag"') in page
    refused = client.post_form("/selfservice/templates/service-deploy",
                               {"service": frozen.slug, "environment": "prod",
                                "image_tag": "v9.9.9"})
    assert refused.status_code == 422
    body = refused.get_data(as_text=True)
    assert "are frozen" in body and "disabled" in _button(body)
    assert session.query(Job).count() == 0


def test_terraform_forms_say_no_freeze_applies(client, login_as):
    login_as("developer")
    page = client.get("/selfservice/templates/dev-environment").get_data(as_text=True)
    assert "this request creates a dev environment, so no freeze applies" in page
    assert "disabled" not in _button(page)
    assert "hx-get" not in re.search(r'<div id="freeze-panel"[^>]*>', page).group(0)


@pytest.mark.parametrize("args", [{"service": "order\x00"}, {"environment": "p" * 5000},
                                  {"service": "no-such-service", "environment": "prod"}])
def test_hostile_or_unknown_choices_are_4xx_or_a_plain_hint(client, login_as, args):
    login_as("developer")
    response = client.htmx("GET", "/selfservice/templates/service-deploy/freeze",
                           query_string=args)
    if "no-such-service" in args.get("service", ""):
        assert response.status_code == 200
        assert "Choose a service" in response.get_data(as_text=True)
    else:
        assert response.status_code == 400


@pytest.mark.parametrize("roles,status", [(("tenant_viewer",), 403), (("oncall",), 403),
                                          (("manager",), 200)])
def test_who_may_read_the_panel(client, login_as, frozen, roles, status):
    login_as(*roles)
    response = client.htmx("GET", "/selfservice/templates/service-deploy/freeze",
                           query_string={"service": frozen.slug, "environment": "prod"})
    assert response.status_code == status
    assert client.get("/selfservice/templates/nope/freeze").status_code in (403, 404)
