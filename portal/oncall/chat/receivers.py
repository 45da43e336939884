"""Chat follows the paging engine and the incidents through their signals: a page sent
posts to its team's chat, every later step edits that post, and a declared Sev1/Sev2
incident gets its announcement (on Slack, a channel of its own)."""
from __future__ import annotations

from sqlalchemy import select

from portal import events
from portal.catalog import service as catalog
from portal.oncall.chat import delivery, targets
from portal.oncall.chat.models import ChatMessage
from portal.oncall.models import Page, PageEvent

INCIDENT_SEVERITIES = ("sev1", "sev2")


def _page(session, *, page_id, incident_id, kind, summary, at) -> Page | None:
    """The page a page_event is about.

    The signal names the incident, not the page, so the event just recorded (flushed in
    this transaction before the signal) is found by its kind, time and summary.
    """
    if page_id is not None:
        return session.get(Page, page_id)
    stmt = (select(PageEvent.page_id).join(Page, Page.id == PageEvent.page_id)
            .where(PageEvent.kind == kind, PageEvent.at == at,
                   PageEvent.summary == (summary or "")[:300])
            .order_by(PageEvent.id.desc()).limit(1))
    if incident_id is not None:
        stmt = stmt.where(Page.incident_id == incident_id)
    found = session.scalar(stmt)
    return session.get(Page, found) if found is not None else None


@events.page_event.connect
def chat_page_event(sender=None, *, session, incident_id, kind, summary, at, page_id=None,
                    **_) -> None:
    """Post a newly paged page to its team's chat, or edit the post to its new state."""
    page = _page(session, page_id=page_id, incident_id=incident_id, kind=kind,
                 summary=summary, at=at)
    if page is None:
        return
    posted = session.scalar(select(ChatMessage.id).where(ChatMessage.page_id == page.id,
                                                         ChatMessage.purpose == "page")
                            .limit(1))
    if posted is None:
        target = targets.for_page(session=session, page=page)
        if target is not None and kind in ("sent", "escalated"):
            delivery.queue_page(session=session, page=page, target=target)
        return
    delivery.queue_updates(session=session, page=page, kind=kind)


@events.incident_opened.connect
def chat_incident_opened(sender=None, *, session, incident_id, severity, title,
                         service_slugs, **_) -> None:
    """Announce a Sev1/Sev2 incident in the chat of each affected team that asked for it."""
    if severity not in INCIDENT_SEVERITIES:
        return
    seen = set()
    for slug in service_slugs or []:
        svc = catalog.get_service(session=session, slug=slug)
        if svc is None or svc.team_id in seen:
            continue
        seen.add(svc.team_id)
        target = targets.for_team(session=session, team_id=svc.team_id)
        if target is not None and target.incident_channels:
            delivery.queue_incident(session=session, target=target, incident_id=incident_id,
                                    title=title, severity=severity)
