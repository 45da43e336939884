"""The notification service's SMS channel over HTTP, end to end: a real service process
(PostgreSQL, Redis, tokens from the auth service) sending through two local stand-ins for
Twilio's REST API (tests/fake_twilio.py checks the documented request and answers as
Twilio does), with failover from the primary to the backup visible in the answer and in
the stored notification."""
from __future__ import annotations

import pytest

from platform_services.notification.api import build
from platform_services.notification.settings import NotificationSettings
from tests.fake_twilio import INVALID_TEST_NUMBER, FakeTwilio
from tests.integration.services.tokens import api
from tests.integration.services_accounts.conftest import register
from tests.servers import closed_port

pytestmark = pytest.mark.integration
PHONE = "+14155550123"


@pytest.fixture
def twilio_pair():
    with FakeTwilio() as primary, FakeTwilio(numbers=("+15017122662",)) as backup:
        yield primary, backup


@pytest.fixture
def sms_service(config, run_service, tenant):
    """The notification service with the given SMS providers (a str: a dead URL)."""
    def starter(primary: FakeTwilio | str | None, backup: FakeTwilio | None = None):
        values = {}
        for role, fake in (("primary", primary), ("backup", backup)):
            if fake is None:
                continue
            dead = isinstance(fake, str)
            values.update({f"sms_{role}_url": fake if dead else fake.url,
                           f"sms_{role}_account_sid": "AC" + "0" * 32 if dead else fake.sid,
                           f"sms_{role}_auth_token": "x" * 32 if dead else fake.token,
                           f"sms_{role}_from": "+15017122661" if role == "primary"
                           else "+15017122662"})
        settings = NotificationSettings(outbound_allowed_hosts=("127.0.0.1",), **values)
        running = run_service(build(config("notification"), log=False, settings=settings))
        register(running.url, tenant)
        api.put(f"{running.url}/v1/tenants/{tenant[1]}/templates/order_shipped", timeout=5,
                json={"subject": "unused in an SMS",
                      "body": "Order {{ order_id }} shipped with {{ carrier }}."}
                ).raise_for_status()
        return running
    return starter


def _send(url: str, slug: str, **fields):
    body = {"template": "order_shipped", "channel": "sms", "to": PHONE,
            "data": {"order_id": "A-1", "carrier": "UPS"}, **fields}
    return api.post(f"{url}/v1/tenants/{slug}/notifications", json=body, timeout=20)


def _logged(url: str, slug: str) -> dict:
    return api.get(f"{url}/v1/tenants/{slug}/notifications", timeout=5).json()[
        "notifications"][0]


def test_sms_goes_through_the_primary(sms_service, twilio_pair, tenant):
    primary, backup = twilio_pair
    svc = sms_service(primary, backup)
    answer = _send(svc.url, tenant[1])
    assert answer.status_code == 201, answer.text
    relay = answer.json()["relay"]
    (sent,) = primary.accepted
    assert sent["form"] == {"To": PHONE, "From": "+15017122661",
                            "Body": "Order A-1 shipped with UPS."}
    assert relay.startswith(f"primary:127.0.0.1:{primary.server.port}/SM")
    assert backup.requests == []
    assert _logged(svc.url, tenant[1])["relay"] == relay


@pytest.mark.parametrize("outage", ["http-500", "refused"])
def test_sms_fails_over_to_the_backup_and_says_so(sms_service, twilio_pair, tenant, outage):
    primary, backup = twilio_pair
    if outage == "http-500":
        primary.script = [500, 500]  # the first try and its retry
        svc = sms_service(primary, backup)
    else:
        svc = sms_service(f"http://127.0.0.1:{closed_port()}", backup)
    answer = _send(svc.url, tenant[1])
    assert answer.status_code == 201, answer.text
    assert answer.json()["relay"].startswith(f"backup:127.0.0.1:{backup.server.port}/SM")
    if outage == "http-500":
        assert len(primary.requests) == 2 and primary.accepted == []
    (sent,) = backup.accepted
    assert sent["form"]["From"] == "+15017122662" and sent["form"]["To"] == PHONE
    logged = _logged(svc.url, tenant[1])
    assert (logged["channel"], logged["status"]) == ("sms", "sent")
    assert logged["relay"] == answer.json()["relay"]


def test_an_invalid_number_is_final_and_not_sent_to_the_backup(sms_service, twilio_pair,
                                                               tenant):
    primary, backup = twilio_pair
    svc = sms_service(primary, backup)
    answer = _send(svc.url, tenant[1], to=INVALID_TEST_NUMBER)
    assert answer.status_code == 502 and answer.json()["error"] == "delivery_failed"
    assert "error 21211" in answer.json()["message"]
    assert len(primary.requests) == 1 and backup.requests == []
    logged = _logged(svc.url, tenant[1])
    assert logged["status"] == "failed" and "21211" in logged["error"]


def test_sms_requests_are_checked_and_an_unconfigured_channel_says_so(sms_service, tenant):
    svc = sms_service(None)
    bad = _send(svc.url, tenant[1], to="0049 30 1234567")
    assert bad.status_code == 422 and "E.164" in bad.json()["fields"]["to"]
    nobody = _send(svc.url, tenant[1], to=None)
    assert nobody.status_code == 422 and nobody.json()["error"] == "no_recipient"
    unconfigured = _send(svc.url, tenant[1])
    assert unconfigured.status_code == 502
    assert "no SMS provider configured" in unconfigured.json()["message"]
