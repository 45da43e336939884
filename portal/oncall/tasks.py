"""The on-call beat ticks: the paging engine (escalate due pages, then deliver due
notifications), the e-mail to a silence's creator before it ends, and re-creating the
portal's silences Alertmanager lost; and the task sending a new page's first
notifications as soon as the transaction that opened it commits."""
from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from flask import current_app

from portal.extensions import db
from portal.integrations import smtp
from portal.integrations.alertmanager import AlertmanagerUnavailable
from portal.oncall import (
    notify,
    paging,
    roster_notices,
    silence_hygiene,
    silence_ledger,
    step_webhooks,
)
from portal.oncall.am import am_client
from portal.oncall.chat import tasks as chat_tasks

BEAT_SCHEDULE = {
    "oncall-paging-tick": {"task": "portal.oncall.tasks.paging_tick", "schedule": 15.0},
    "oncall-silence-expiry-tick": {"task": "portal.oncall.tasks.silence_expiry_tick",
                                   "schedule": 120.0},
    "oncall-silence-reconcile-tick": {"task": "portal.oncall.tasks.silence_reconcile_tick",
                                      "schedule": 60.0},
    "oncall-roster-notice-tick": {"task": "portal.oncall.tasks.roster_notice_tick",
                                  "schedule": 120.0},
    **chat_tasks.BEAT_SCHEDULE,  # chat messages to Slack, Mattermost, Teams, Discord
}


@shared_task(name="portal.oncall.tasks.paging_tick")
def paging_tick() -> dict:
    """Escalate unacked pages whose step timed out and send what is due."""
    channels = notify.Channels.from_config(current_app.config)
    with db.session_scope() as session:
        moved = paging.escalate_due(session=session, channels=channels)
    # Delivery in its own transaction: a slow SMTP server never holds the page rows locked.
    with db.session_scope() as session:
        tried = notify.deliver_due(session=session, channels=channels)
    with db.session_scope() as session:  # escalation steps' outgoing webhooks, likewise
        hooks = step_webhooks.deliver_due(session=session, channels=channels)
    return {"escalated": len(moved), "notifications": tried, "webhooks": hooks}


@shared_task(name="portal.oncall.tasks.send_first_notifications")
def send_first_notifications(page_ids: list[int]) -> dict:
    """Send what new pages' first steps queued, right after the transaction that opened
    them committed (the paging tick would otherwise send it up to 15 s later)."""
    channels = notify.Channels.from_config(current_app.config)
    with db.session_scope() as session:
        tried = notify.deliver_due(session=session, channels=channels,
                                   page_ids=[int(i) for i in page_ids][:100])
    return {"notifications": tried}


@shared_task(name="portal.oncall.tasks.silence_expiry_tick")
def silence_expiry_tick() -> dict:
    """E-mail each portal user whose silence ends within the notice lead time, once."""
    config = current_app.config
    client, relay = am_client(), smtp.Relay.from_config(config)
    lead = timedelta(minutes=config["ONCALL_SILENCE_EXPIRY_NOTICE_MINUTES"])
    if client is None or relay is None or lead <= timedelta(0):
        return {"claimed": 0, "sent": 0, "skipped": "no Alertmanager, SMTP or lead time"}
    try:
        listed = client.list_silences()
    except AlertmanagerUnavailable as exc:  # the next tick tries again; nothing is lost
        return {"claimed": 0, "sent": 0, "skipped": str(exc)}
    link = config["PUBLIC_BASE_URL"].rstrip("/") + "/oncall/silences/"
    # The claim commits before any mail is sent, so the unique key decides who sends.
    with db.session_scope() as session:
        claimed = silence_hygiene.claim_notices(session=session, silences=listed, lead=lead,
                                                link=link)
    with db.session_scope() as session:
        tried = silence_hygiene.deliver_notices(
            session=session, relay=relay, max_attempts=config["ONCALL_NOTIFY_MAX_ATTEMPTS"])
    return {"claimed": len(claimed), "sent": tried}


@shared_task(name="portal.oncall.tasks.silence_reconcile_tick")
def silence_reconcile_tick() -> dict:
    """Re-create the portal's still-due silences that Alertmanager no longer has."""
    with db.session_scope() as session:
        silence_ledger.prune(session=session)
    client = am_client()
    if client is None:
        return {"recreated": 0, "skipped": "no Alertmanager"}
    try:
        with db.session_scope() as session:
            done = silence_ledger.reconcile(session=session, client=client,
                                            listed=client.list_silences())
    except AlertmanagerUnavailable as exc:  # the next tick tries again; the ledger remains
        return {"recreated": 0, "skipped": str(exc)}
    return {"recreated": len(done), "ids": [d.silence_id for d in done]}


@shared_task(name="portal.oncall.tasks.roster_notice_tick")
def roster_notice_tick() -> dict:
    """Mail the managers each new notice about a deprovisioned person's shifts, once."""
    config = current_app.config
    relay = smtp.Relay.from_config(config)
    if relay is None:
        return {"sent": 0, "skipped": "no SMTP relay"}
    with db.session_scope() as session:
        tried = roster_notices.deliver(session=session, relay=relay,
                                       max_attempts=config["ONCALL_NOTIFY_MAX_ATTEMPTS"])
    return {"sent": tried}
