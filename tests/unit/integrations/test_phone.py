"""SMS and voice calls through the portal's phone provider, against local stand-ins for
Twilio's REST API (tests/fake_twilio.py checks path, basic auth, form fields and E.164
numbers, and answers as Twilio documents): failover from the primary to the backup on a
5xx, a 429 or a refused connection, never on an error about the message (21211)."""
from xml.etree import ElementTree

import pytest

from portal import config as portal_config
from portal.integrations import phone
from portal.security import production
from tests.fake_twilio import INVALID_TEST_NUMBER, FakeTwilio
from tests.servers import closed_port

PAGED = "+14155550123"
STRONG = "9f3c2a7b1e5d4c6a8b0f2e4d6c8a0b2e"


def settings(primary: FakeTwilio | str | None = None, backup: FakeTwilio | str | None = None,
             **overrides) -> dict:
    """The portal's settings with the given providers (a str: a URL nothing answers)."""
    values = {s.name: s.default for s in portal_config.all_settings()}
    values.update(OUTBOUND_ALLOWED_HOSTS=("127.0.0.1",), PHONE_RETRIES=1)
    for role, fake in (("PRIMARY", primary), ("BACKUP", backup)):
        if fake is None:
            continue
        dead = isinstance(fake, str)
        values.update({f"PHONE_PROVIDER_{role}": "twilio",
                       f"PHONE_PROVIDER_{role}_URL": fake if dead else fake.url,
                       f"PHONE_PROVIDER_{role}_ACCOUNT_SID": "AC" + "0" * 32 if dead else fake.sid,
                       f"PHONE_PROVIDER_{role}_AUTH_TOKEN": STRONG if dead else fake.token,
                       f"PHONE_PROVIDER_{role}_FROM": "+15017122661"})
    values.update(overrides)
    return values


@pytest.fixture
def twilio_pair():
    with FakeTwilio() as primary, FakeTwilio(numbers=("+15017122662",)) as backup:
        yield primary, backup


def _pair_settings(primary, backup, **overrides):
    return settings(primary, backup, PHONE_PROVIDER_BACKUP_FROM="+15017122662", **overrides)


def test_sms_and_call_go_out_as_twilio_documents(twilio_pair):
    primary, backup = twilio_pair
    provider = phone.provider_from_config(_pair_settings(primary, backup))
    sid = provider.send_sms(to=PAGED, body="[SEV1] checkout 5xx — ack: https://p/x")
    call_sid = provider.call(to=PAGED, message="Page for <checkout> & payments. Press nothing.")
    assert sid.startswith("SM") and len(sid) == 34 and sid.provider == "primary"
    assert call_sid.startswith("CA") and call_sid.provider == "primary"
    sms, call = primary.accepted
    assert sms["resource"] == "Messages" and sms["form"] == {
        "To": PAGED, "From": "+15017122661", "Body": "[SEV1] checkout 5xx — ack: https://p/x"}
    assert call["resource"] == "Calls" and set(call["form"]) == {"To", "From", "Twiml"}
    say = ElementTree.fromstring(call["form"]["Twiml"]).find("Say")
    assert say.text == "Page for <checkout> & payments. Press nothing."
    assert backup.requests == []


def test_status_callback_is_requested_when_enabled(twilio_pair):
    primary, backup = twilio_pair
    provider = phone.provider_from_config(_pair_settings(
        primary, backup, PHONE_STATUS_CALLBACK=True,
        PUBLIC_BASE_URL="https://portal.meridian.example/"))
    provider.send_sms(to=PAGED, body="hello")
    provider.call(to=PAGED, message="hello")
    assert {r["form"]["StatusCallback"] for r in primary.accepted} == {
        "https://portal.meridian.example/integrations/twilio/status"}


@pytest.mark.parametrize("failure", [[500, 500], [503, 429]], ids=["500", "503-then-429"])
def test_a_failing_primary_is_retried_once_then_the_backup_sends(twilio_pair, failure):
    primary, backup = twilio_pair
    primary.script = list(failure)
    sid = phone.provider_from_config(_pair_settings(primary, backup)).send_sms(
        to=PAGED, body="page")
    assert sid.provider == "backup" and len(primary.requests) == 2
    (sent,) = backup.accepted
    assert sent["form"]["From"] == "+15017122662" and sid.startswith("SM")


def test_a_refused_connection_fails_over_to_the_backup():
    with FakeTwilio() as backup:
        provider = phone.provider_from_config(settings(
            f"http://127.0.0.1:{closed_port()}", backup))
        call_sid = provider.call(to=PAGED, message="wake up")
    assert call_sid.provider == "backup" and len(backup.accepted) == 1


def test_a_transient_error_that_passes_stays_with_the_primary(twilio_pair):
    primary, backup = twilio_pair
    primary.script = [429]
    sid = phone.provider_from_config(_pair_settings(primary, backup)).send_sms(
        to=PAGED, body="page")
    assert sid.provider == "primary" and len(primary.requests) == 2 and backup.requests == []


def test_an_invalid_number_is_final_and_never_tried_at_the_backup(twilio_pair):
    primary, backup = twilio_pair
    provider = phone.provider_from_config(_pair_settings(primary, backup))
    with pytest.raises(phone.PhoneError) as refused:
        provider.send_sms(to=INVALID_TEST_NUMBER, body="page")
    assert refused.value.code == 21211 and not refused.value.transient
    assert "is not a valid phone number" in str(refused.value)
    assert len(primary.requests) == 1 and backup.requests == []


def test_a_malformed_number_is_refused_before_any_request(twilio_pair):
    primary, backup = twilio_pair
    provider = phone.provider_from_config(_pair_settings(primary, backup))
    for bad in ("0049301234567", "+1 415 555 0123", "+", "", "+0123456789"):
        with pytest.raises(phone.PhoneError, match="E.164"):
            provider.send_sms(to=bad, body="page")
    assert primary.requests == [] and backup.requests == []


def test_a_revoked_primary_token_goes_to_the_backup_without_retrying(twilio_pair):
    primary, backup = twilio_pair
    provider = phone.provider_from_config(_pair_settings(
        primary, backup, PHONE_PROVIDER_PRIMARY_AUTH_TOKEN="revoked-" + STRONG))
    assert provider.send_sms(to=PAGED, body="page").provider == "backup"
    assert len(primary.requests) == 1 and primary.accepted == []


def test_every_provider_down_is_a_transient_error_naming_each():
    provider = phone.provider_from_config(settings(
        f"http://127.0.0.1:{closed_port()}", None))
    with pytest.raises(phone.PhoneError) as failed:
        provider.send_sms(to=PAGED, body="page")
    assert failed.value.transient and "every phone provider failed" in str(failed.value)
    assert str(failed.value).count("primary:") == 2  # tried, retried


def test_provider_addresses_go_through_the_outbound_checks(twilio_pair):
    primary, backup = twilio_pair
    provider = phone.provider_from_config(_pair_settings(primary, backup,
                                                         OUTBOUND_ALLOWED_HOSTS=()))
    with pytest.raises(phone.PhoneError, match="refused by the outbound checks"):
        provider.send_sms(to=PAGED, body="page")
    assert primary.requests == [] and backup.requests == []


def test_configuration_none_half_and_refused_kinds():
    assert phone.provider_from_config(settings()) is None
    half = settings("https://api.twilio.com", PHONE_PROVIDER_PRIMARY_AUTH_TOKEN=None)
    with pytest.raises(phone.PhoneError, match="PHONE_PROVIDER_PRIMARY_AUTH_TOKEN"):
        phone.provider_from_config(half)
    with pytest.raises(phone.PhoneError, match="without PHONE_PROVIDER_PRIMARY"):
        phone.provider_from_config(settings(None, "https://api.twilio.com"))
    with pytest.raises(phone.PhoneError, match="E.164"):
        phone.provider_from_config(settings("https://api.twilio.com",
                                            PHONE_PROVIDER_PRIMARY_FROM="5017122661"))
    with pytest.raises(ValueError, match="invalid PHONE_PROVIDER_PRIMARY"):
        portal_config.from_env({"PHONE_PROVIDER_PRIMARY": "pager-carrier-pigeon",
                                "PORTAL_ENV": "production"})


def test_production_refuses_a_known_default_phone_token():
    found = production.problems(settings(
        "https://api.twilio.com", PORTAL_ENV="production", SECRET_KEY=STRONG,
        PHONE_PROVIDER_PRIMARY_AUTH_TOKEN="changeme",
        PHONE_PROVIDER_BACKUP_AUTH_TOKEN="test-secret"), environ={})
    assert "PHONE_PROVIDER_PRIMARY_AUTH_TOKEN is a known default" in found
    assert "PHONE_PROVIDER_BACKUP_AUTH_TOKEN is a known default" in found
    assert production.problems(settings("https://api.twilio.com", PORTAL_ENV="production",
                                        SECRET_KEY=STRONG), environ={}) == []
