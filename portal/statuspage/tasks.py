"""The status page's beat tick: notice what changed on each subscribed tenant's page, then
deliver the queued notices."""
from __future__ import annotations

from celery import shared_task
from flask import current_app

from portal.extensions import db
from portal.statuspage import service, subscriptions

BEAT_SCHEDULE = {
    "statuspage-notify-tick": {"task": "portal.statuspage.tasks.notify_tick",
                               "schedule": 60.0},
}


@shared_task(name="portal.statuspage.tasks.notify_tick")
def notify_tick() -> dict:
    """Queue notices for state changes and incident updates, then send what is pending."""
    channels = subscriptions.Channels.from_config(current_app.config)
    with db.session_scope() as session:
        ids = [t.id for t in subscriptions.tenants_with_subscribers(session=session)]
    queued = 0
    for tenant_id in ids:  # one transaction per tenant: one slow page never holds the rest
        with db.session_scope() as session:
            tenant = next(t for t in subscriptions.tenants_with_subscribers(session=session)
                          if t.id == tenant_id)
            status = service.page(session=session, tenant=tenant)
            queued += subscriptions.enqueue_events(session=session, status=status,
                                                   channels=channels)
    # Delivery in its own transaction, after the notices are committed: the unique key
    # decided who sends, and a slow SMTP server holds no page rows.
    with db.session_scope() as session:
        tried = subscriptions.deliver_due(session=session, channels=channels)
    return {"tenants": len(ids), "queued": queued, "tried": tried}
