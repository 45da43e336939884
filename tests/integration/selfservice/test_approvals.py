"""Approvals with a required comment, and the notifications around them.

E-mail goes through the portal's SMTP client to a real aiosmtpd server; the chat webhook
is a local HTTP server standing in for a Slack-compatible incoming webhook (no chat
service can run here): it records each POSTed JSON body, which must carry `text`.
"""
from __future__ import annotations

import email
import uuid
from email import policy as email_policy

import pytest
from aiosmtpd.controller import Controller

from portal.auth import service as accounts
from portal.auth.models import AuditEntry
from portal.catalog import service as catalog
from portal.catalog.models import ServiceEvent
from portal.extensions import db
from portal.selfservice import dispatch, review, tasks
from portal.selfservice.models import Job, JobDecision, JobNotification
from tests.conftest import TEST_PASSWORD, PortalClient
from tests.httpserver import LocalHTTPServer, QuietHandler
from tests.integration.selfservice.test_engines import inline, job, submit  # noqa: F401
from tests.integration.selfservice.test_worker import make_user as make_committed_user
from tests.servers import free_port

pytestmark = pytest.mark.integration


class Inbox:
    """aiosmtpd handler keeping every message it is given."""

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.rcpt_tos, email.message_from_bytes(
            envelope.content, policy=email_policy.default)))
        return "250 OK"


class WebhookHandler(QuietHandler):
    received: list = []

    def do_POST(self):
        body = self.json_body()
        if not isinstance(body, dict) or not isinstance(body.get("text"), str):
            self.reply(400, {"error": "text required"})
            return
        WebhookHandler.received.append(body)
        self.reply(200, "ok", "text/plain")


@pytest.fixture
def channels(request):
    """A real SMTP server and a webhook receiver, configured on the app under test."""
    app = request.getfixturevalue(request.param if hasattr(request, "param") else "app")
    inbox, port = Inbox(), free_port()
    smtp = Controller(inbox, hostname="127.0.0.1", port=port)
    smtp.start()
    WebhookHandler.received = []
    hook = LocalHTTPServer(WebhookHandler).start()
    saved = {k: app.config.get(k) for k in ("SMTP_HOST", "SMTP_PORT", "SMTP_FROM",
                                           "SELFSERVICE_NOTIFY_WEBHOOK_URL",
                                           "OUTBOUND_ALLOWED_HOSTS", "PUBLIC_BASE_URL")}
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=port, SMTP_FROM="portal@meridian.test",
                      SELFSERVICE_NOTIFY_WEBHOOK_URL=hook.url + "/hooks/approvals",
                      OUTBOUND_ALLOWED_HOSTS=("127.0.0.1",),
                      PUBLIC_BASE_URL="https://portal.meridian.test")
    yield inbox.messages, WebhookHandler.received
    app.config.update(saved)
    hook.stop()
    smtp.stop()


@pytest.fixture
def after_commit(monkeypatch):
    """What the after-commit hook hands to Celery: job ids and notification ids."""
    sent = {"jobs": [], "notifications": []}
    monkeypatch.setattr(dispatch, "send", sent["jobs"].append)
    monkeypatch.setattr(dispatch, "send_notifications", sent["notifications"].extend)
    return sent


def waiting_job(session, requester, **over) -> Job:
    row = Job(id=uuid.uuid4(), template="edge-patching", action="patch", tier="prod",
              target="ansible:edge", params={"group": "local", "playbook": "bootstrap"},
              gate="approval", status="awaiting_approval", requested_by=requester,
              plan={"check": True, "hosts": {}}, **over)
    session.add(row)
    session.commit()
    return row


@pytest.mark.parametrize("comment,status,message", [
    ("", 422, "a comment is required"),
    ("   \n ", 422, "a comment is required"),
    ("x" * 100_000, 422, "Keep the comment to 2000 characters"),
    ("ok\x00then", 400, "NUL"),
    ("fine\x07bell", 422, "control characters"),
])
def test_a_decision_without_a_valid_comment_is_refused_and_changes_nothing(
        client, login_as, make_user, session, after_commit, comment, status, message):
    job_row = waiting_job(session, make_user("developer"))
    login_as("manager")
    response = client.post_form(f"/selfservice/jobs/{job_row.id}/approval",
                                {"decision": "approve", "comment": comment})
    assert response.status_code == status
    assert message in response.get_data(as_text=True)
    session.expire_all()
    assert session.get(Job, job_row.id).status == "awaiting_approval"
    assert session.query(JobDecision).count() == 0
    assert session.query(AuditEntry).filter_by(action="selfservice.approve").count() == 0
    assert after_commit == {"jobs": [], "notifications": []}
    if status == 422:  # the page comes back with the form, the job's plan and the message
        assert 'id="decision-form"' in response.get_data(as_text=True)


def test_unknown_decisions_are_refused(client, login_as, make_user, session, after_commit):
    job_row = waiting_job(session, make_user("developer"))
    login_as("manager")
    response = client.post_form(f"/selfservice/jobs/{job_row.id}/approval",
                                {"decision": "maybe", "comment": "why not"})
    assert response.status_code == 422 and "Decide approve or reject" in response.get_data(
        as_text=True)


def test_approve_with_a_comment_is_stored_shown_audited_and_mailed_to_the_requester(
        app, client, login_as, make_user, session, after_commit, channels):
    mails, hooks = channels
    requester = make_user("developer")
    job_row = waiting_job(session, requester)
    manager = login_as("manager")
    comment = "Patch window agreed with the edge team; go ahead <b>now</b>."
    response = client.post_form(f"/selfservice/jobs/{job_row.id}/approval",
                                {"decision": "approve", "comment": comment})
    assert response.status_code == 303
    session.expire_all()
    done = session.get(Job, job_row.id)
    assert (done.status, done.phase, done.approved_by_id) == ("queued", "apply", manager.id)
    assert after_commit["jobs"] == [str(job_row.id)]
    decision = session.query(JobDecision).one()
    assert (decision.decision, decision.comment, decision.decided_by_id) == (
        "approve", comment, manager.id)
    entry = session.query(AuditEntry).filter_by(action="selfservice.approve").one()
    assert entry.details["comment"] == comment and entry.actor_id == manager.id

    page = client.get(f"/selfservice/jobs/{job_row.id}").get_data(as_text=True)
    assert "Patch window agreed with the edge team; go ahead &lt;b&gt;now&lt;/b&gt;." in page

    # Sent only after the commit, then delivered for real.
    assert len(after_commit["notifications"]) == 2
    assert tasks.deliver_notifications(after_commit["notifications"]) == 2
    [(recipients, mail)] = mails
    assert recipients == [requester.email]
    assert mail["Subject"].startswith("Your request was approved: edge patching (patch)")
    body = mail.get_body(("plain",)).get_content()
    assert comment in body and manager.email in body
    assert f"https://portal.meridian.test/selfservice/jobs/{job_row.id}" in body
    assert len(hooks) == 1 and comment in hooks[0]["text"]
    statuses = {n.channel: n.status for n in session.query(JobNotification)}
    assert statuses == {"email": "sent", "webhook": "sent"}
    assert tasks.deliver_notifications(None) == 0  # nothing left: never sent twice


def test_reject_with_a_comment_cancels_tells_why_and_lands_on_the_service_timeline(
        app, client, login_as, make_user, session, after_commit, channels, meridian_service):
    mails, _ = channels
    requester = make_user("developer")
    job_row = waiting_job(session, requester, service_id=meridian_service.id)
    login_as("manager")
    response = client.post_form(f"/selfservice/jobs/{job_row.id}/approval",
                                {"decision": "reject", "comment": "Not during the freeze."})
    assert response.status_code == 303
    session.expire_all()
    done = session.get(Job, job_row.id)
    assert done.status == "cancelled" and done.status_reason.endswith(": Not during the freeze.")
    event = session.query(ServiceEvent).filter(
        ServiceEvent.service_id == meridian_service.id).order_by(ServiceEvent.id.desc()).first()
    assert "Not during the freeze." in event.summary
    tasks.deliver_notifications(after_commit["notifications"])
    assert "Comment: Not during the freeze." in mails[0][1].get_body(("plain",)).get_content()
    assert mails[0][1]["Subject"].startswith("Your request was rejected")


def test_a_failed_delivery_stays_pending_and_is_retried_until_the_bound(
        app, session, make_user, after_commit, monkeypatch):
    """An SMTP server that is down: the row keeps its error, then fails after N tries."""
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=free_port(),
                      SELFSERVICE_NOTIFY_MAX_ATTEMPTS=2, SELFSERVICE_NOTIFY_WEBHOOK_URL=None)
    requester, manager = make_user("developer"), make_user("manager")
    job_row = waiting_job(session, requester)
    review.decide(session=session, job=job_row, user=manager, decision="approve",
                  comment="fine")
    session.commit()
    ids = after_commit["notifications"]
    assert len(ids) == 1
    tasks.deliver_notifications(ids)
    note = session.get(JobNotification, ids[0])
    session.refresh(note)
    assert (note.status, note.attempts) == ("pending", 1) and "SMTP" in note.last_error
    tasks.deliver_notifications(None)
    session.refresh(note)
    assert (note.status, note.attempts) == ("failed", 2)


def test_a_webhook_to_a_private_address_is_refused(app, session, make_user, after_commit):
    app.config.update(SMTP_HOST=None, OUTBOUND_ALLOWED_HOSTS=(),
                      SELFSERVICE_NOTIFY_WEBHOOK_URL="http://10.0.0.7/hook")
    job_row = waiting_job(session, make_user("developer"))
    review.decide(session=session, job=job_row, user=make_user("manager"),
                  decision="reject", comment="no")
    session.commit()
    tasks.deliver_notifications(after_commit["notifications"])
    note = session.query(JobNotification).one()
    assert note.channel == "webhook" and "publicly reachable" in note.last_error


@pytest.fixture
def meridian_service(session):
    team = catalog.upsert_team(session=session, slug="platform", name="Platform Engineering",
                               chat_channel="#platform")
    found = catalog.upsert_service(session=session, slug="order", team=team,
                                   name="Order Service", kind="service", tier=1)
    session.commit()
    return found


@pytest.mark.parametrize("channels", ["worker_app"], indirect=True)
def test_approvers_are_told_when_a_planned_prod_job_waits_for_them(
        worker_app, inline, channels, tmp_path, monkeypatch):  # noqa: F811
    """The real plan phase ends awaiting approval; managers (not the requester) hear of it
    after that transaction commits; the decision goes back to the requester."""
    mails, hooks = channels
    monkeypatch.setitem(worker_app.config, "SELFSERVICE_GITOPS_REPO", str(tmp_path / "gitops"))
    queued: list[int] = []
    monkeypatch.setattr(dispatch, "send_notifications", queued.extend)
    dev, manager = make_committed_user("developer"), make_committed_user("manager")
    deploy_id = submit(dev, "service-deploy", service="order", environment="prod",
                       image_tag="v4.2.7")
    inline()
    assert job(deploy_id).status == "awaiting_approval"
    assert queued, "no notification was sent after the plan committed"
    tasks.deliver_notifications(list(queued))
    with db.session_scope() as session:
        emails = {u: accounts.get(session=session, user_id=u).email for u in (dev, manager)}
    told = {rcpt for rcpts, _ in mails for rcpt in rcpts}
    assert emails[manager] in told and emails[dev] not in told
    subject = next(m["Subject"] for r, m in mails if emails[manager] in r)
    assert subject == "Approval needed: service deploy (deploy) of order to prod"
    assert any(f"/selfservice/jobs/{deploy_id}" in h["text"] for h in hooks)

    worker_app.test_client_class = PortalClient
    client = worker_app.test_client()
    assert client.post_form("/login", {"email": emails[manager], "password": TEST_PASSWORD}
                            ).status_code == 303
    queued.clear()
    mails.clear()
    response = client.post_form(f"/selfservice/jobs/{deploy_id}/approval",
                                {"decision": "approve", "comment": "Canary looked fine."})
    assert response.status_code == 303
    tasks.deliver_notifications(list(queued))
    assert [r for r, _ in mails] == [[emails[dev]]]
    assert "Canary looked fine." in mails[0][1].get_body(("plain",)).get_content()
