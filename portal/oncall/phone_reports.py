"""Delivery reports of page SMS and calls (the provider's status callbacks, verified by
portal.integrations.phone_status and sent as `events.phone_status`): a message that never
arrived or a call nobody answered shows on the page's notifications instead of a "sent"
that only meant the provider accepted it."""
from __future__ import annotations

from sqlalchemy import select

from portal import events
from portal.oncall.models import Notification

# The provider's words for "did not reach the person" (MessageStatus and CallStatus).
NOT_REACHED = frozenset({"failed", "undelivered", "busy", "no-answer", "canceled"})


@events.phone_status.connect
def record_phone_status(sender, *, session, sid, status, error_code=None, provider=None,
                        **_) -> None:
    """Mark the page notification with this provider id failed when it did not arrive."""
    if status not in NOT_REACHED:
        return
    note = session.scalar(select(Notification).where(Notification.provider_ref == sid))
    if note is None:  # not a page notification (or another portal's)
        return
    code = f", error {error_code}" if error_code is not None else ""
    note.status = "failed"
    note.last_error = f"{provider or 'the'} provider reported {status}{code}"[:500]
    session.flush()
