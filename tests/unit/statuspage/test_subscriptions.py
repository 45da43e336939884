"""Subscriptions: signed confirm and unsubscribe links (tampered ones refused), and notices
sent exactly once per event and subscriber. E-mail goes to a real SMTP server (aiosmtpd)
through the portal's SMTP client; the webhook receiver is a local HTTP server standing in
for a customer's endpoint (it cannot run here) and checks the JSON body we document."""
from __future__ import annotations

from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Message
from sqlalchemy import func, select

from portal.auth.models import AuditEntry
from portal.incidents import service as incidents
from portal.integrations import smtp
from portal.statuspage import service, subscriptions
from portal.statuspage.models import Notice, Subscription
from tests.servers import free_port
from tests.unit.statuspage.conftest import NOW


class Inbox(Message):
    def __init__(self):
        super().__init__()
        self.messages = []

    def handle_message(self, message):
        self.messages.append(message)


@pytest.fixture
def inbox():
    box = Inbox()
    controller = Controller(box, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller.port, box
    controller.stop()


def _channels(port=None):
    relay = smtp.Relay("127.0.0.1", port) if port else None
    return subscriptions.Channels("test-secret", "http://portal.test", relay,
                                  allowed_hosts=("127.0.0.1",))


COMPONENTS = {"api-gateway": "API Gateway", "order": "Order Service", "search": "Search Service"}


def test_confirm_link_by_email_then_unsubscribe(session, world, inbox):
    port, box = inbox
    channels = _channels(port)
    sub = subscriptions.subscribe(session=session, tenant=world["acme"], channel="email",
                                  target="ops@acme.example", component="", components=COMPONENTS,
                                  channels=channels, now=NOW)
    assert subscriptions.deliver_due(session=session, channels=channels, now=NOW) == 1
    [mail] = box.messages
    body = mail.get_payload(decode=True).decode()
    link = next(w for w in body.split() if "/status/subscriptions/confirm/" in w)
    token = link.rsplit("/", 1)[1]
    sub_id = subscriptions.read_token("test-secret", token, action="confirm")
    assert sub_id == sub.id
    subscriptions.confirm(session=session, subscription_id=sub_id, now=NOW)
    assert sub.active
    again = subscriptions.subscribe(session=session, tenant=world["acme"], channel="email",
                                    target="OPS@acme.example", component="",
                                    components=COMPONENTS, channels=channels, now=NOW)
    assert again.id == sub.id  # no second subscription, no second confirmation mail
    assert subscriptions.deliver_due(session=session, channels=channels, now=NOW) == 0
    subscriptions.unsubscribe(session=session, subscription_id=sub.id, now=NOW)
    assert not sub.active


@pytest.mark.parametrize("tamper", [
    lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"),
    lambda t: "x" + t,
    lambda t: t.split(".")[0],
    lambda t: "",
    lambda t: "\u0661" * 40,
])
def test_tampered_tokens_are_refused(session, world, tamper):
    token = subscriptions.make_token("test-secret", subscription_id=1, action="confirm")
    with pytest.raises(ValueError):
        subscriptions.read_token("test-secret", tamper(token), action="confirm")


def test_token_for_one_action_does_not_do_the_other(session, world):
    token = subscriptions.make_token("test-secret", subscription_id=1, action="confirm")
    with pytest.raises(ValueError):
        subscriptions.read_token("test-secret", token, action="unsubscribe")
    with pytest.raises(ValueError):
        subscriptions.read_token("other-secret", token, action="confirm")


def test_links_over_http(client, session, world, app):
    sub = Subscription(tenant_id=world["acme"].id, channel="email", target="a@acme.example",
                       component="")
    session.add(sub)
    session.commit()
    secret = app.config["SECRET_KEY"]
    confirm = subscriptions.make_token(secret, subscription_id=sub.id, action="confirm")
    assert client.get(f"/status/subscriptions/confirm/{confirm}").status_code == 200
    session.refresh(sub)
    assert sub.confirmed_at is None  # GET only asks
    assert client.post_form(f"/status/subscriptions/confirm/{confirm}x").status_code == 400
    assert client.post_form(f"/status/subscriptions/confirm/{confirm}").status_code == 200
    session.refresh(sub)
    assert sub.confirmed_at is not None
    confirm_as_unsub = f"/status/subscriptions/unsubscribe/{confirm}"
    assert client.post_form(confirm_as_unsub).status_code == 400
    unsub = subscriptions.make_token(secret, subscription_id=sub.id, action="unsubscribe")
    assert client.post_form(f"/status/subscriptions/unsubscribe/{unsub}").status_code == 200
    session.refresh(sub)
    assert sub.unsubscribed_at is not None
    assert session.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.action.in_(["statuspage.confirm", "statuspage.unsubscribe"]))) == 2
    gone = subscriptions.make_token(secret, subscription_id=2**31 - 1, action="confirm")
    assert client.post_form(f"/status/subscriptions/confirm/{gone}").status_code == 404


def _active(session, tenant, channel, target, component=""):
    sub = Subscription(tenant_id=tenant.id, channel=channel, target=target,
                       component=component, confirmed_at=NOW - timedelta(days=1))
    session.add(sub)
    session.flush()
    return sub


def test_each_event_is_sent_exactly_once_per_subscriber(session, world, declare, hook, inbox):
    url, received = hook
    port, box = inbox
    channels = _channels(port)
    _active(session, world["acme"], "webhook", url)
    _active(session, world["acme"], "email", "ops@acme.example", component="order")
    _active(session, world["acme"], "email", "search@acme.example", component="search")
    first = service.page(session=session, tenant=world["acme"], now=NOW)
    assert subscriptions.enqueue_events(session=session, status=first, channels=channels,
                                        now=NOW) == 0  # first look: a baseline, no news

    incident = declare(services=["order"], tenants=["acme-sp"], severity="sev1",
                       opened_at=NOW - timedelta(minutes=5))
    later = NOW + timedelta(minutes=1)
    for _ in range(2):  # two ticks (or two workers) see the same events
        page = service.page(session=session, tenant=world["acme"], now=later)
        subscriptions.enqueue_events(session=session, status=page, channels=channels,
                                     now=later)
    subscriptions.deliver_due(session=session, channels=channels, now=later)
    subscriptions.deliver_due(session=session, channels=channels, now=later)

    events = sorted((b["event"], b.get("component") or b.get("incident")) for b in received)
    assert events == [("component.update", "api-gateway"), ("component.update", "order"),
                      ("incident.update", incident.id)]
    assert all(b["unsubscribe_url"].startswith("http://portal.test/status/subscriptions/"
                                               "unsubscribe/") for b in received)
    assert sorted(m["To"] for m in box.messages) == ["ops@acme.example"] * 2
    assert session.scalar(select(func.count()).select_from(Notice)) == 5
    assert set(session.scalars(select(Notice.status))) == {"sent"}

    update = incidents.publish_update(session=session, incident=incident, actor_email=None,
                                      message="A fix is rolling out.")
    update.created_at = later
    session.flush()
    page = service.page(session=session, tenant=world["acme"], now=later)
    subscriptions.enqueue_events(session=session, status=page, channels=channels, now=later)
    subscriptions.deliver_due(session=session, channels=channels, now=later)
    assert [b["text"] for b in received[3:]] == [
        "Orders failing (triggered): A fix is rolling out."]
    assert len(box.messages) == 3


def test_unsubscribed_subscriber_gets_nothing_more(session, world, declare, hook):
    url, received = hook
    channels = _channels()
    sub = _active(session, world["acme"], "webhook", url)
    subscriptions.enqueue_events(session=session, channels=channels, now=NOW,
                                 status=service.page(session=session, tenant=world["acme"],
                                                     now=NOW))
    declare(services=["order"], tenants=["acme-sp"], opened_at=NOW - timedelta(minutes=5))
    page = service.page(session=session, tenant=world["acme"], now=NOW + timedelta(minutes=1))
    subscriptions.enqueue_events(session=session, status=page, channels=channels,
                                 now=NOW + timedelta(minutes=1))
    subscriptions.unsubscribe(session=session, subscription_id=sub.id)
    subscriptions.deliver_due(session=session, channels=channels)
    assert received == []
