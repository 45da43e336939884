"""Self-service in a real browser: request, watch the plan stream, confirm, outputs,
destroy; a prod deploy waits for a manager's approval.

Jobs run through Celery for real: a Celery worker (celery.contrib.testing.worker, solo
pool, in a thread of this process because the live portal runs in-process) consumes a
queue unique to this run on the RabbitMQ broker. No task_always_eager. The separate
worker *process* path is covered by tests/integration/selfservice/test_worker.py. ArgoCD
is a local HTTP server checking the documented API (tests/fake_argocd.py).
"""
import re
import secrets

import pytest
from celery.contrib.testing.worker import start_worker
from kombu import Connection
from playwright.sync_api import Page, expect

from tests.conftest import BROKER_URL
from tests.fake_argocd import FakeArgoCD

pytestmark = pytest.mark.e2e
SLOW = 60_000  # ms; an upper bound for slow machines, not a measured threshold


@pytest.fixture(scope="module")
def selfservice_worker(e2e_app, tmp_path_factory):
    queue = f"ss-e2e-{secrets.token_hex(4)}"
    saved = {k: e2e_app.config.get(k) for k in ("SELFSERVICE_QUEUE", "SELFSERVICE_GITOPS_REPO",
                                                 "ARGOCD_URL", "ARGOCD_TOKEN")}
    with FakeArgoCD(apps={"order-prod", "order-staging"}) as argocd:
        e2e_app.config.update(SELFSERVICE_QUEUE=queue, ARGOCD_URL=argocd.url,
                              ARGOCD_TOKEN="test-token",
                              SELFSERVICE_GITOPS_REPO=str(tmp_path_factory.mktemp("gitops")))
        celery = e2e_app.extensions["celery"]
        with start_worker(celery, pool="solo", perform_ping_check=False, queues=[queue],
                          loglevel="WARNING", shutdown_timeout=30):
            yield argocd
    e2e_app.config.update(saved)
    with Connection(BROKER_URL) as conn:
        conn.default_channel.queue_delete(queue)


def test_developer_requests_watches_plan_confirms_sees_outputs_destroys(
        selfservice_worker, sign_in, page: Page, live_url):
    name = f"platform-pw-{secrets.token_hex(3)}"
    sign_in("developer")
    page.locator("#main-nav").get_by_role("link", name="Self-service").click()
    page.locator("#template-dev-environment").get_by_role("button", name="Request").click()
    page.wait_for_load_state()  # htmx has bound the field's inline check
    page.get_by_label("Environment name").fill('"; rm -rf /')
    expect(page.locator("#name-msg")).to_contain_text("Environment name cannot contain")
    page.get_by_label("Environment name").fill(name)
    expect(page.locator("#name-msg")).to_contain_text("Looks good.")
    page.get_by_label("Team (cost tag)").select_option("platform")
    page.get_by_label("Cost center (cost tag)").fill("cc-1001")
    page.get_by_role("button", name="Plan it").click()

    expect(page).to_have_url(re.compile(r"/selfservice/jobs/"))
    expect(page.locator("#job-log")).to_contain_text("Plan: 5 to add", timeout=SLOW)
    expect(page.locator("#job-plan")).to_contain_text("5 to add", timeout=SLOW)
    page.get_by_role("button", name="Confirm and apply").click()
    expect(page.locator("#job-status [data-status]")).to_have_text("succeeded", timeout=SLOW)
    expect(page.locator("#job-outputs")).to_contain_text(f"https://{name}.sandbox.meridian.internal")
    expect(page.locator("#job-log")).to_contain_text("Apply complete!")

    page.locator("#main-nav").get_by_role("link", name="Self-service").click()
    row = page.locator(f"#env-{name}")
    expect(row).to_contain_text("active")
    row.get_by_role("button", name="Destroy").click()
    expect(page.locator("#job-plan")).to_contain_text("5 to destroy", timeout=SLOW)
    page.get_by_role("button", name="Confirm and apply").click()
    expect(page.locator("#job-status [data-status]")).to_have_text("succeeded", timeout=SLOW)
    page.locator("#main-nav").get_by_role("link", name="Self-service").click()
    expect(page.locator(f"#env-{name}")).to_have_count(0)


def test_prod_deploy_waits_for_a_managers_approval(selfservice_worker, sign_in, page: Page,
                                                   browser, live_url):
    tag = f"v4.9.{secrets.randbelow(10_000)}"
    sign_in("developer")
    page.goto(f"{live_url}/selfservice/templates/service-deploy")
    page.get_by_label("Service").select_option("order")
    page.get_by_label("Target environment").select_option("prod")
    page.get_by_label("Image tag").fill(tag)
    page.get_by_role("button", name="Plan it").click()
    expect(page.locator("#gate")).to_contain_text("Waiting for a manager's approval", timeout=SLOW)
    expect(page.locator("#job-plan")).to_contain_text(tag)
    expect(page.locator("#approve")).to_have_count(0)  # the requester cannot approve
    job_url = page.url

    manager = sign_in("manager", on=browser.new_context().new_page())
    manager.locator("#main-nav").get_by_role("link", name="Approvals").click()
    # The demo's own prod deploy waits there too: pick this one by its tag.
    manager.locator("#approvals tr", has_text=f"image_tag={tag}").get_by_role("link").click()
    expect(manager).to_have_url(job_url)
    manager.locator("#approve").click()  # refused by the browser: a comment is required
    expect(manager.locator("#job-status [data-status]")).to_have_text("awaiting approval")
    manager.locator("#decision-comment").fill("Release notes reviewed; ship it.")
    manager.locator("#approve").click()
    expect(manager.locator("#job-status [data-status]")).to_have_text("succeeded", timeout=SLOW)
    expect(manager.locator("#job-commit")).to_contain_text(f"→ {tag}")
    expect(manager.locator("#job-commit")).to_contain_text("rollout healthy (Healthy)")
    argocd = manager.locator("#argocd-status")
    expect(argocd.locator("[data-health]")).to_have_text("Healthy", timeout=SLOW)
    expect(argocd.locator("[data-sync]")).to_have_text("Synced")
    expect(argocd).to_contain_text("(this job's commit)")
    expect(argocd.locator('#argocd-resources tr[data-resource="Deployment/order-prod"]')) \
        .to_contain_text("Healthy")
    expect(argocd).to_have_attribute("data-polling", "no")
    assert selfservice_worker.apps["order-prod"]["status"] == "Synced"

    page.reload()
    expect(page.locator("#job-status")).to_contain_text("Approved by manager@meridian.example")


def test_demo_history_a_staging_deploy_done_and_a_prod_deploy_awaiting_approval(
        sign_in, page: Page, live_url):
    """Seeded by portal.selfservice.demo through the real engine; the approval is left open."""
    sign_in("manager")
    page.locator("#main-nav").get_by_role("link", name="Approvals").click()
    row = page.locator("#approvals tr", has_text="image_tag=v1.23.0")
    expect(row).to_contain_text("service=billing")
    expect(row).to_contain_text("dev@meridian.example")
    row.get_by_role("link").click()
    expect(page.locator("#gate")).to_contain_text("Waiting for a manager's approval")
    expect(page.locator("#job-plan")).to_contain_text("v1.23.0")
    expect(page.locator("#job-log")).to_contain_text("== plan on portal seed-demo")
    page.goto(f"{live_url}/catalog/services/billing")
    staging = page.locator("#selfservice-panel tr", has_text="staging")
    expect(staging).to_contain_text("v1.23.0")
    expect(staging.locator("[data-status]")).to_have_text("succeeded")
