"""Microsoft Teams and Discord against local fake webhooks: the Teams Adaptive Card and
the Discord embed carry the portal's signed acknowledge/resolve link for the paged person
(it opens the existing confirmation page), and a change of the page edits the Discord
message and posts a new Teams card."""
from __future__ import annotations

from portal.oncall import notify, paging
from portal.oncall.chat import delivery
from tests.unit.oncall.chat.conftest import declare, deliver, set_target


def test_teams_card_and_discord_embed_carry_the_signed_link_and_follow_the_page(
        session, chat_app, client, team_setup, webhook_fakes, olivia, make_user,
        sent_after_commit):
    teams, discord = webhook_fakes
    team, svc = team_setup
    target = set_target(session, team, "teams", teams.url + "/workflows/abc/triggers/run")
    _, page = declare(session, svc)
    assert deliver(session, chat_app, ids=sent_after_commit) == 1
    card = teams.requests[0]["body"]["attachments"][0]["content"]
    assert teams.problems == [] and card["body"][0]["text"] == "[SEV2] Checkout failing"
    act = next(a for a in card["actions"] if a["title"] == "Acknowledge or resolve")
    token = act["url"].split("/oncall/pages/act/")[1]
    assert notify.read_action_token(chat_app.config["SECRET_KEY"], token) == (page.id,
                                                                              olivia.id)
    assert "Acknowledge" in client.get(f"/oncall/pages/act/{token}").get_data(as_text=True)

    # The same team moves to Discord: the next page goes there and is edited in place.
    target.platform, target.target = "discord", discord.url + "/api/webhooks/42/tok-en"
    session.commit()
    paging.resolve(session=session, page=page, user=olivia)
    session.commit()
    deliver(session, chat_app, ids=sent_after_commit)
    assert teams.problems == [] and len(teams.requests) == 2  # Teams: a new card
    sent_after_commit.clear()
    _, second = declare(session, svc, title="Search slow")
    deliver(session, chat_app, ids=sent_after_commit)
    [execute] = discord.requests
    embed = execute["body"]["embeds"][0]
    assert execute["query"]["wait"] == ["true"] and embed["title"] == "[SEV2] Search slow"
    assert "/oncall/pages/act/" in embed["description"]
    paging.ack(session=session, page=second, user=make_user("oncall"), via="the portal")
    session.commit()
    deliver(session, chat_app, ids=sent_after_commit)
    edit = discord.requests[1]
    [message] = delivery.for_page(session=session, page_id=second.id)[:1]
    assert edit["method"] == "PATCH"
    assert edit["path"] == f"/api/webhooks/42/tok-en/messages/{message.remote_id}"
    edited = edit["body"]["embeds"][0]
    assert edited["description"].startswith("Acknowledged by Test oncall via the portal")
    assert {"name": "Status", "value": "acked", "inline": True} in edited["fields"]
    assert discord.problems == []
