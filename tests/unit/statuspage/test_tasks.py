"""The beat tick end to end: a baseline, then one webhook call per event, then silence."""
from __future__ import annotations

from datetime import timedelta

from portal.db import utcnow
from portal.statuspage import tasks
from portal.statuspage.models import Subscription


def test_tick_notifies_each_change_once(app, session, world, declare, hook):
    url, received = hook
    session.add(Subscription(tenant_id=world["acme"].id, channel="webhook", target=url,
                             component="order", confirmed_at=utcnow() - timedelta(days=1)))
    session.commit()
    assert tasks.notify_tick.run() == {"tenants": 1, "queued": 0, "tried": 0}
    declare(services=["order"], tenants=["acme-sp"], severity="sev2",
            opened_at=utcnow() - timedelta(minutes=1))
    session.commit()
    assert tasks.notify_tick.run()["queued"] == 2
    assert tasks.notify_tick.run()["queued"] == 0
    assert sorted(b["event"] for b in received) == ["component.update", "incident.update"]
