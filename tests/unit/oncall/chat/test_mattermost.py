"""Mattermost against the local fake REST API: the page is posted with interactive
attachment buttons whose context we signed; a click with that context acknowledges the
page as the Mattermost user's portal account, a forged context is refused and changes
nothing, and the `/meridian` slash command works only with its token."""
from __future__ import annotations

from sqlalchemy import select

from portal.auth.models import AuditEntry
from portal.oncall.chat import delivery
from tests.unit.oncall.chat.conftest import (
    COMMAND_TOKEN,
    MM_CHANNEL,
    MM_OLIVIA,
    declare,
    deliver,
    set_target,
)


def posted(session, chat_app, team_setup, mattermost_fake, olivia, sent_after_commit):
    team, svc = team_setup
    set_target(session, team, "mattermost", MM_CHANNEL)
    mattermost_fake.people[MM_OLIVIA] = olivia.email
    incident, page = declare(session, svc)
    assert deliver(session, chat_app, ids=sent_after_commit) == 1
    return incident, page


def test_button_with_signed_context_acks_and_forged_context_is_refused(
        session, chat_app, client, team_setup, mattermost_fake, olivia, sent_after_commit):
    _, page = posted(session, chat_app, team_setup, mattermost_fake, olivia, sent_after_commit)
    [post] = mattermost_fake.calls("/api/v4/posts")
    assert mattermost_fake.problems == [] and post["body"]["channel_id"] == MM_CHANNEL
    [attachment] = post["body"]["props"]["attachments"]
    actions = {a["id"]: a for a in attachment["actions"]}
    assert list(actions) == ["ack", "resolve", "escalate"]
    ack = actions["ack"]["integration"]
    assert ack["url"] == "http://portal.test/oncall/chat/mattermost/actions"

    forged = {**ack["context"], "action": "resolve"}  # the ack signature on a resolve
    response = client.post("/oncall/chat/mattermost/actions",
                           json={"user_id": MM_OLIVIA, "context": forged})
    assert response.status_code == 401
    session.expire_all()
    assert page.status == "triggered"

    response = client.post("/oncall/chat/mattermost/actions", json={
        "user_id": MM_OLIVIA, "post_id": "p" * 26, "channel_id": MM_CHANNEL,
        "context": ack["context"]})
    assert response.status_code == 200
    answer = response.get_json()
    assert answer["ephemeral_text"] == f"Page #{page.id} acknowledged by Olivia Oncall."
    edited = answer["update"]["props"]["attachments"][0]
    assert "Acknowledged by Olivia Oncall via Mattermost" in edited["text"]
    session.expire_all()
    assert (page.status, page.acked_by_id) == ("acked", olivia.id)
    [message] = delivery.for_page(session=session, page_id=page.id)[:1]
    deliver(session, chat_app, ids=sent_after_commit[1:])
    patch = mattermost_fake.calls("/patch")[0]
    assert patch["path"] == f"/api/v4/posts/{message.remote_id}/patch"
    assert mattermost_fake.problems == []


def test_slash_command_needs_its_token_and_refuses_strangers(
        session, chat_app, client, team_setup, mattermost_fake, olivia, sent_after_commit):
    _, page = posted(session, chat_app, team_setup, mattermost_fake, olivia, sent_after_commit)
    form = {"command": "/meridian", "text": f"resolve #{page.id}", "user_id": MM_OLIVIA,
            "channel_id": MM_CHANNEL, "token": "wrong"}
    assert client.post("/oncall/chat/mattermost/command", data=form).status_code == 401
    stranger = "s" * 26
    mattermost_fake.people[stranger] = "nobody@elsewhere.example"
    response = client.post("/oncall/chat/mattermost/command",
                           data={**form, "token": COMMAND_TOKEN, "user_id": stranger})
    assert response.get_json()["response_type"] == "ephemeral"
    assert response.get_json()["text"].startswith("Sorry, I don't know you")
    session.expire_all()
    assert page.status == "triggered"

    response = client.post("/oncall/chat/mattermost/command", data={**form, "token": ""},
                           headers={"Authorization": f"Token {COMMAND_TOKEN}"})
    assert response.get_json()["text"] == f"Page #{page.id} resolved by Olivia Oncall."
    session.expire_all()
    assert page.status == "resolved"
    assert session.scalar(select(AuditEntry).where(
        AuditEntry.action == "oncall.page_resolve", AuditEntry.actor_id == olivia.id))
