"""Slack end to end against the local fake Web API: a page is posted with Block Kit
buttons after the commit, a signed button click acknowledges it as the portal user behind
the Slack account (timeline, audit, the message edited), a bad or old signature changes
nothing, an unknown person is refused politely, a failing post is retried and then shown,
and a Sev1 incident gets a channel of its own."""
from __future__ import annotations

import hashlib
import hmac
import json
import time
from datetime import timedelta
from urllib.parse import urlencode

from sqlalchemy import select

from portal.auth.models import AuditEntry
from portal.db import utcnow
from portal.incidents import service as incidents
from portal.incidents import timeline
from portal.oncall.chat import delivery
from tests.unit.oncall.chat.conftest import SIGNING_SECRET, declare, deliver, set_target

CHANNEL = "C0TEAMCHAN"


def click(client, page_id, *, user="U0OLIVIA", action="oncall_ack", response_url=None,
          secret=SIGNING_SECRET, age=0):
    payload = {"type": "block_actions", "user": {"id": user, "name": "olivia"},
               "actions": [{"action_id": action, "value": str(page_id), "type": "button"}],
               "container": {"type": "message", "channel_id": CHANNEL},
               "response_url": response_url}
    body = urlencode({"payload": json.dumps(payload)}).encode()
    ts = str(int(time.time()) - age)
    sig = "v0=" + hmac.new(secret.encode(), b"v0:" + ts.encode() + b":" + body,
                           hashlib.sha256).hexdigest()
    return client.post("/oncall/chat/slack/interactions", data=body, headers={
        "X-Slack-Request-Timestamp": ts, "X-Slack-Signature": sig,
        "Content-Type": "application/x-www-form-urlencoded"})


def posted_page(session, chat_app, team_setup, slack_fake, sent_after_commit):
    team, svc = team_setup
    set_target(session, team, "slack", CHANNEL)
    incident, page = declare(session, svc)
    assert sent_after_commit, "the post is handed over only after the commit"
    assert deliver(session, chat_app, ids=sent_after_commit) == 1
    return incident, page


def test_page_is_posted_with_buttons_and_a_signed_click_acks_it_by_name(
        session, chat_app, client, team_setup, slack_fake, olivia, sent_after_commit):
    incident, page = posted_page(session, chat_app, team_setup, slack_fake, sent_after_commit)
    post = slack_fake.calls("chat.postMessage")[0]["body"]
    assert post["channel"] == CHANNEL and slack_fake.problems == []
    buttons = post["blocks"][-1]["elements"]
    assert [b["action_id"] for b in buttons] == ["oncall_ack", "oncall_resolve",
                                                 "oncall_escalate"]
    assert {b["value"] for b in buttons} == {str(page.id)}
    assert "Paging Olivia Oncall" in post["blocks"][0]["text"]["text"]
    [message] = delivery.for_page(session=session, page_id=page.id)
    assert (message.status, message.remote_channel) == ("sent", CHANNEL)

    slack_fake.people["U0OLIVIA"] = olivia.email
    sent_after_commit.clear()
    response = click(client, page.id)
    assert response.status_code == 200, response.get_data(as_text=True)
    session.expire_all()
    assert (page.status, page.acked_by_id) == ("acked", olivia.id)
    entry = [e for e in timeline.all_entries(session=session, incident_id=incident.id)
             if e.kind == "page"][-1]
    assert entry.actor_email == olivia.email and "via Slack" in entry.summary
    audit = session.scalars(select(AuditEntry).where(AuditEntry.action == "oncall.page_ack")
                            .order_by(AuditEntry.id.desc())).first()
    assert audit.actor_id == olivia.id and audit.details["via"] == "slack"

    # The edit goes out after the click's commit: no buttons but Resolve, and the name.
    assert deliver(session, chat_app, ids=sent_after_commit) == 1
    update = slack_fake.calls("chat.update")[0]["body"]
    assert (update["channel"], update["ts"]) == (CHANNEL, message.remote_id)
    assert "Acknowledged by Olivia Oncall via Slack" in update["blocks"][0]["text"]["text"]
    assert [b["action_id"] for b in update["blocks"][-1]["elements"]] == ["oncall_resolve"]
    assert slack_fake.problems == []


def test_bad_or_old_signature_is_refused_and_changes_nothing(
        session, chat_app, client, team_setup, slack_fake, olivia, sent_after_commit):
    _, page = posted_page(session, chat_app, team_setup, slack_fake, sent_after_commit)
    slack_fake.people["U0OLIVIA"] = olivia.email
    assert click(client, page.id, secret="not-the-secret").status_code == 401
    assert click(client, page.id, age=6 * 60).status_code == 401  # replay window: 5 min
    session.expire_all()
    assert page.status == "triggered" and [e.kind for e in page.events] == ["sent"]
    assert slack_fake.calls("users.info") == []


def test_unknown_slack_user_gets_a_polite_ephemeral_refusal(
        session, chat_app, client, team_setup, slack_fake, sent_after_commit):
    _, page = posted_page(session, chat_app, team_setup, slack_fake, sent_after_commit)
    slack_fake.people["U0STRANGER"] = "stranger@elsewhere.example"
    response = click(client, page.id, user="U0STRANGER",
                     response_url=slack_fake.url + "/response/1")
    assert response.status_code == 200
    session.expire_all()
    assert page.status == "triggered"
    [answer] = slack_fake.calls("/response/")
    assert answer["body"]["response_type"] == "ephemeral"
    assert answer["body"]["text"].startswith("Sorry, I don't know you")
    refused = session.scalars(select(AuditEntry).where(
        AuditEntry.action == "oncall.chat_refused")).all()
    assert refused and refused[-1].outcome == "denied"


def test_failing_post_is_retried_with_backoff_then_shown_on_page_and_incident(
        session, chat_app, client, login_as, team_setup, slack_fake, sent_after_commit):
    team, svc = team_setup
    set_target(session, team, "slack", CHANNEL)
    incident, page = declare(session, svc)
    slack_fake.fail_next = 10
    [message] = delivery.for_page(session=session, page_id=page.id)
    now = utcnow()
    for attempt in (1, 2, 3):
        assert deliver(session, chat_app, now=now) == 1
        assert message.attempts == attempt and "HTTP 500" in message.last_error
        assert deliver(session, chat_app, now=now) == 0  # backoff: not due again yet
        now = message.next_attempt_at + timedelta(seconds=1)
    assert message.status == "failed" and len(slack_fake.calls("chat.postMessage")) == 3
    assert deliver(session, chat_app, now=now + timedelta(days=1)) == 0  # bounded

    login_as("oncall")
    page_html = client.get(f"/oncall/pages/{page.id}").get_data(as_text=True)
    assert f'id="chat-message-{message.id}"' in page_html and "HTTP 500" in page_html
    incident_html = client.get(f"/incidents/{incident.id}").get_data(as_text=True)
    assert "1 chat message could not be delivered" in incident_html


def test_sev1_incident_gets_its_own_slack_channel_linked_from_the_incident(
        session, chat_app, client, login_as, team_setup, slack_fake, olivia,
        sent_after_commit):
    team, svc = team_setup
    set_target(session, team, "slack", CHANNEL, incident_channels=True)
    slack_fake.people["U0OLIVIA"] = olivia.email
    incident, page = declare(session, svc, severity="sev1", title="Payments DOWN!")
    assert deliver(session, chat_app, ids=sent_after_commit) == 2  # the page + the incident
    created = slack_fake.calls("conversations.create")[0]["body"]
    assert created["name"] == f"inc-{incident.id}-payments-down"
    invite = slack_fake.calls("conversations.invite")[0]["body"]
    assert invite == {"channel": "C0INCIDENT", "users": "U0OLIVIA"}
    assert slack_fake.problems == []
    login_as("developer")
    html = client.get(f"/incidents/{incident.id}").get_data(as_text=True)
    assert "https://slack.com/app_redirect?channel=C0INCIDENT" in html


def test_a_rolled_back_page_never_reaches_the_chat(
        session, chat_app, team_setup, slack_fake, sent_after_commit):
    team, svc = team_setup
    set_target(session, team, "slack", CHANNEL)
    session.commit()
    incidents.declare(session=session, title="Never mind", severity="sev2", actor_email=None,
                      service_slugs=[svc.slug])
    assert session.info.get(delivery.KEY)  # queued in the transaction...
    session.rollback()
    assert sent_after_commit == [] and delivery.KEY not in session.info  # ...and dropped
    assert deliver(session, chat_app) == 0 and slack_fake.requests == []
