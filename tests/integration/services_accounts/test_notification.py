"""The notification service with real SMTP servers (aiosmtpd) as relays, a local webhook
receiver that checks the signature, real Redis/PostgreSQL, and RabbitMQ for events."""
from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time

import pika
import pytest
import requests
from flask import Flask, request
from werkzeug.serving import make_server

from platform_services.notification.api import build
from platform_services.notification.settings import NotificationSettings
from tests.integration.services.servers import free_port
from tests.integration.services.tokens import api
from tests.integration.services_accounts.conftest import REDIS_URL, metric, register
from tests.servers import closed_port

pytestmark = pytest.mark.integration
WEBHOOK_SECRET = "whk-test"
# The tests' webhook receivers listen on loopback: allowlisted, as an operator would an
# internal target, rather than switching the address check off.
LOCAL_RECEIVERS = ("127.0.0.1",)


@pytest.fixture
def notifier(config, run_service, tenant):
    def starter(relays: tuple[str, ...], redis_url: str | None = REDIS_URL, rate: int = 60,
                allowed: tuple[str, ...] = LOCAL_RECEIVERS, **config_overrides):
        settings = NotificationSettings(smtp_relays=relays, smtp_timeout=2,
                                        webhook_secret=WEBHOOK_SECRET, rate_per_minute=rate,
                                        outbound_allowed_hosts=allowed)
        running = run_service(build(config("notification", redis_url=redis_url,
                                           **config_overrides), log=False, settings=settings))
        register(running.url, tenant)
        return running
    return starter


def _template(url: str, slug: str, body: str, subject: str = "Order {{ order_id }}") -> None:
    answer = api.put(f"{url}/v1/tenants/{slug}/templates/order_shipped", timeout=5,
                     json={"subject": subject, "body": body})
    assert answer.status_code == 200, answer.text


def _send(url: str, slug: str, **fields) -> requests.Response:
    body = {"template": "order_shipped", "to": "buyer@example.com",
            "data": {"order_id": "A-1", "carrier": "UPS"}, **fields}
    return api.post(f"{url}/v1/tenants/{slug}/notifications", json=body, timeout=20)


def test_email_fails_over_to_the_second_relay(notifier, smtp_relay, tenant):
    dead = f"127.0.0.1:{closed_port()}"  # nothing listens: the primary relay is down
    relay, inbox = smtp_relay()
    svc = notifier((dead, relay))
    _template(svc.url, tenant[1], "Your order {{ order_id }} ships with {{ carrier }}.")
    answer = _send(svc.url, tenant[1])
    assert answer.status_code == 201 and answer.json()["relay"] == relay
    (mail,) = inbox.messages
    assert mail["Subject"] == "Order A-1" and mail["To"] == "buyer@example.com"
    assert mail.get_payload().strip() == "Your order A-1 ships with UPS."


def test_a_relay_answering_a_temporary_error_is_skipped(notifier, smtp_relay, tenant):
    (busy, busy_inbox), (good, inbox) = smtp_relay(), smtp_relay()
    busy_inbox.reply = "451 4.3.0 try again later"
    svc = notifier((busy, good))
    _template(svc.url, tenant[1], "ok {{ order_id }}")
    assert _send(svc.url, tenant[1]).json()["relay"] == good and len(inbox.messages) == 1


def test_every_relay_down_fails_the_notification_clearly(notifier, tenant):
    svc = notifier((f"127.0.0.1:{closed_port()}", f"127.0.0.1:{closed_port()}"))
    _template(svc.url, tenant[1], "x {{ order_id }}")
    answer = _send(svc.url, tenant[1])
    assert answer.status_code == 502 and "every SMTP relay failed" in answer.json()["message"]


@pytest.mark.parametrize("body, reason", [
    ("Hello {{ customer_name }}", "'customer_name' is undefined"),
    ("{{ ''.__class__.__mro__ }}", "unsafe template"),
    ("{{ order_id | int / 0 }}", "ZeroDivisionError"),
])
def test_template_error_fails_that_notification_and_sends_nothing(notifier, smtp_relay, tenant,
                                                                  body, reason):
    relay, inbox = smtp_relay()
    svc = notifier((relay,))
    _template(svc.url, tenant[1], body)
    answer = _send(svc.url, tenant[1])
    assert answer.status_code == 422 and answer.json()["error"] == "template_error"
    assert reason in answer.json()["message"]
    assert inbox.messages == []
    logged = api.get(f"{svc.url}/v1/tenants/{tenant[1]}/notifications", timeout=5).json()
    assert logged["notifications"][0]["status"] == "failed"
    assert reason in logged["notifications"][0]["error"]


def test_syntax_error_is_refused_when_the_template_is_saved(notifier, tenant):
    svc = notifier(())
    answer = api.put(f"{svc.url}/v1/tenants/{tenant[1]}/templates/broken", timeout=5,
                     json={"subject": "s", "body": "{% if %}"})
    assert answer.status_code == 422 and "line 1" in answer.json()["message"]


@pytest.mark.parametrize("redis_url", [REDIS_URL, None], ids=["redis", "postgresql"])
def test_dedupe_and_rate_limit_per_tenant(notifier, smtp_relay, tenant, redis_url):
    relay, inbox = smtp_relay()
    svc = notifier((relay,), redis_url=redis_url, rate=3)
    _template(svc.url, tenant[1], "x {{ order_id }}")
    assert _send(svc.url, tenant[1], dedupe_key="ship-A-1").status_code == 201
    duplicate = _send(svc.url, tenant[1], dedupe_key="ship-A-1")
    assert duplicate.status_code == 200 and duplicate.json()["status"] == "duplicate"
    assert [_send(svc.url, tenant[1]).status_code for _ in range(3)] == [201, 201, 429]
    assert len(inbox.messages) == 3


def test_webhook_notification_is_signed(notifier, tenant):
    received = []
    app = Flask("receiver")

    @app.post("/hook")
    def hook():
        received.append((request.headers["X-Meridian-Signature"], request.get_data()))
        return "", 204
    server = make_server("127.0.0.1", free_port(), app)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        svc = notifier(())
        _template(svc.url, tenant[1], "shipped {{ order_id }}")
        answer = _send(svc.url, tenant[1], channel="webhook",
                       to=f"http://127.0.0.1:{server.port}/hook")
        assert answer.status_code == 201
        (header, body), = received
        ts, sig = (part.split("=", 1)[1] for part in header.split(","))
        expected = hmac.new(WEBHOOK_SECRET.encode(), f"{ts}.".encode() + body,
                            hashlib.sha256).hexdigest()
        assert sig == expected and json.loads(body)["body"] == "shipped A-1"
    finally:
        server.shutdown()


class _Receiver:
    """A local webhook receiver answering `status` to POST /hook, recording the bodies."""

    def __init__(self, status: int) -> None:
        self.bodies: list[bytes] = []
        app = Flask("receiver")

        @app.post("/hook")
        def hook():
            self.bodies.append(request.get_data())
            return "", status
        self.server = make_server("127.0.0.1", free_port(), app)
        self.url = f"http://127.0.0.1:{self.server.port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


SECURITY = 'meridian_security_events_total{kind="outbound_refused",service="notification"}'


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:8108/v1/tenants", "http://169.254.169.254/latest/meta-data/",
    "http://[::ffff:10.0.0.1]/hook", "http://10.0.0.8/", "http://localhost/",
])
def test_a_contact_webhook_on_an_internal_address_is_refused(notifier, tenant, url):
    svc = notifier((), allowed=())
    before = metric(svc.url, SECURITY)
    answer = api.put(f"{svc.url}/v1/tenants/{tenant[1]}/contact", timeout=5,
                     json={"webhook_url": url})
    assert answer.status_code == 422, answer.text
    assert "publicly reachable" in answer.json()["fields"]["webhook_url"]
    assert metric(svc.url, SECURITY) == before + 1


def test_send_time_check_refuses_a_contact_saved_before_and_says_nothing_of_it(notifier,
                                                                             tenant):
    """A contact stored while its address was allowed (or before a DNS change) is checked
    again at every send; the failure reads like any other, whatever answered there."""
    quiet, refusing = _Receiver(204), _Receiver(405)
    try:
        allowed = notifier(())
        _template(allowed.url, tenant[1], "shipped {{ order_id }}")
        api.put(f"{allowed.url}/v1/tenants/{tenant[1]}/contact", timeout=5,
                json={"webhook_url": quiet.url}).raise_for_status()
        strict = notifier((), allowed=())
        answer = api.post(f"{strict.url}/v1/tenants/{tenant[1]}/notifications", timeout=20,
                          json={"template": "order_shipped", "channel": "webhook",
                                "data": {"order_id": "A-1"}})
        assert answer.status_code == 502
        assert answer.json()["message"] == "the webhook could not be delivered"
        assert quiet.bodies == [] and metric(strict.url, SECURITY) == 1
        failed = _send(allowed.url, tenant[1], channel="webhook", to=refusing.url)
        assert failed.status_code == 502 and refusing.bodies
        assert failed.json()["message"] == answer.json()["message"]
    finally:
        quiet.server.shutdown()
        refusing.server.shutdown()


@pytest.mark.parametrize("fields, field", [
    ({"channel": "fax"}, "channel"), ({"to": "not-an-address"}, "to"),
    ({"channel": "sms"}, "to"),  # an e-mail address is no phone number
    ({"data": {"pad": "x" * 40_000}}, "data"), ({"dedupe_key": "has spaces"}, "dedupe_key"),
])
def test_bad_requests_are_422(notifier, tenant, fields, field):
    svc = notifier(())
    answer = _send(svc.url, tenant[1], **fields)
    assert answer.status_code == 422 and field in answer.json()["fields"]


def test_export_ready_event_mails_the_tenant_contact_once(notifier, smtp_relay, tenant, broker,
                                                          run_prefix):
    relay, inbox = smtp_relay()
    svc = notifier((relay,), rabbitmq_url=broker)
    api.put(f"{svc.url}/v1/tenants/{tenant[1]}/contact", timeout=5,
            json={"email": "ops@acme.example"}).raise_for_status()
    consumer = svc.service.workers[0]
    assert consumer.connected.wait(10)
    conn = pika.BlockingConnection(pika.URLParameters(broker))
    channel = conn.channel()
    body = json.dumps({"job_id": "job-7", "tenant_id": tenant[0], "bucket": "meridian-reports",
                       "key": "exports/tenant-1/job-7.ndjson"}).encode()
    for _ in range(2):  # a redelivery must not mail twice
        channel.basic_publish(f"{run_prefix}notifications", "export.ready", body,
                              pika.BasicProperties(message_id="worker:77"))
    conn.close()
    handled = 'meridian_messages_consumed_total{outcome="ok",queue="notification.events",' \
              'service="notification"}'
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and metric(svc.url, handled) < 2:
        time.sleep(0.05)
    assert metric(svc.url, handled) == 2  # both deliveries handled, one mail
    (mail,) = inbox.messages
    assert mail["To"] == "ops@acme.example" and "job-7" in mail.get_payload()
