"""The providers' delivery reports at POST /integrations/twilio/status: X-Twilio-Signature
checked as Twilio documents it (HMAC-SHA1 with the sending account's auth token over the
URL and the sorted parameters, base64), then announced as `phone_status` and audited."""
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from portal import events
from portal.auth.models import AuditEntry
from portal.integrations import twilio

URL = "/integrations/twilio/status"
PUBLIC = "https://portal.meridian.example"
PRIMARY_SID, BACKUP_SID = "AC" + "1" * 32, "AC" + "2" * 32
TOKENS = {PRIMARY_SID: "9f3c2a7b1e5d4c6a8b0f2e4d6c8a0b2e", BACKUP_SID: "0b2e4d6c8a0f2e4d6c8a9f3c2a7b1e5d"}
MESSAGE_SID = "SM" + "a" * 32


def test_signature_matches_twilios_documented_examples():
    url = "https://mycompany.com/myapp.php?foo=1&bar=2"
    params = {"CallSid": "CA1234567890ABCDE", "Caller": "+14158675309", "Digits": "1234",
              "From": "+14158675309", "To": "+18005551212"}
    assert twilio.signature("12345", url, params.items()) == "RSOYDt4T1cUTdK1PDd93/VVr8B8="
    repeated = [("Sid", "CA123"), ("SidAccount", "AC123"), ("Digits", "5678"),
                ("Digits", "1234")]
    assert twilio.signature("12345", url, repeated) == "IK+Dwps556ElfBT0I3Rgjkr1wJU="
    assert twilio.valid_signature("12345", url, params.items(), "RSOYDt4T1cUTdK1PDd93/VVr8B8=")
    assert not twilio.valid_signature("12346", url, params.items(),
                                      "RSOYDt4T1cUTdK1PDd93/VVr8B8=")
    assert not twilio.valid_signature("12345", url, params.items(), None)


@pytest.fixture
def callback(app, client):
    app.config.update(PUBLIC_BASE_URL=PUBLIC + "/")
    for role, sid in (("PRIMARY", PRIMARY_SID), ("BACKUP", BACKUP_SID)):
        app.config.update({f"PHONE_PROVIDER_{role}": "twilio",
                           f"PHONE_PROVIDER_{role}_ACCOUNT_SID": sid,
                           f"PHONE_PROVIDER_{role}_AUTH_TOKEN": TOKENS[sid],
                           f"PHONE_PROVIDER_{role}_FROM": "+15017122661"})

    def post(form: dict, *, token: str | None = None, signature: str | None = None):
        token = token or TOKENS.get(form.get("AccountSid"), "x")
        sent = signature or twilio.signature(token, PUBLIC + URL, form.items())
        return client.post(URL, data=form, headers={"X-Twilio-Signature": sent})
    return post


@pytest.fixture
def reports():
    seen = []

    def receiver(sender, **kw):
        seen.append({k: v for k, v in kw.items() if k != "session"})
    events.phone_status.connect(receiver)
    yield seen
    events.phone_status.disconnect(receiver)


def sms_report(**extra) -> dict:
    return {"AccountSid": BACKUP_SID, "ApiVersion": "2010-04-01", "From": "+15017122661",
            "To": "+14155550123", "MessageSid": MESSAGE_SID, "SmsSid": MESSAGE_SID,
            "MessageStatus": "undelivered", "SmsStatus": "undelivered", "ErrorCode": "30003",
            **extra}


def test_a_signed_report_is_announced_and_audited(callback, reports, session):
    response = callback(sms_report())
    assert response.status_code == 204
    assert reports == [{"kind": "sms", "sid": MESSAGE_SID, "status": "undelivered",
                        "error_code": 30003, "provider": "backup"}]
    entry = session.scalars(select(AuditEntry).where(
        AuditEntry.action == "phone.status_received")).one()
    assert (entry.actor_email, entry.target_type, entry.target_id) == (
        "twilio:backup", "sms", MESSAGE_SID)
    call = {"AccountSid": PRIMARY_SID, "CallSid": "CA" + "b" * 32, "CallStatus": "no-answer",
            "Direction": "outbound-api", "To": "+14155550123", "From": "+15017122661"}
    assert callback(call).status_code == 204
    assert reports[-1]["kind"] == "call" and reports[-1]["provider"] == "primary"


@pytest.mark.parametrize("tamper", ["status", "token", "account", "missing", "url"])
def test_an_unverifiable_report_is_refused(callback, client, reports, tamper):
    form = sms_report()
    if tamper == "status":  # signed, then changed on the way
        sent = twilio.signature(TOKENS[BACKUP_SID], PUBLIC + URL, form.items())
        response = callback({**form, "MessageStatus": "delivered"}, signature=sent)
    elif tamper == "token":  # signed with the other account's token
        response = callback(form, token=TOKENS[PRIMARY_SID])
    elif tamper == "account":  # an account that is not ours, signed with its own token
        response = callback({**form, "AccountSid": "AC" + "9" * 32}, token="theirs")
    elif tamper == "missing":
        response = client.post(URL, data=form)
    else:  # signed for another URL than the one we gave the provider
        sent = twilio.signature(TOKENS[BACKUP_SID], "https://evil.example" + URL, form.items())
        response = callback(form, signature=sent)
    assert response.status_code == 403 and reports == []


def test_signed_but_malformed_reports_are_400(callback, reports):
    for form in (sms_report(MessageSid="SM123", SmsSid="SM123"),
                 sms_report(MessageStatus="exploded"),
                 sms_report(ErrorCode="thirty"),
                 {"AccountSid": BACKUP_SID, "Foo": "bar"}):
        assert callback(form).status_code == 400, form
    assert reports == []


def test_without_providers_the_endpoint_is_unavailable(client):
    assert client.post(URL, data=sms_report()).status_code == 503


@settings(max_examples=40, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(form=st.dictionaries(
    st.sampled_from(["MessageSid", "MessageStatus", "CallSid", "CallStatus", "ErrorCode",
                     "To", "Body"]),
    st.one_of(st.text(max_size=60), st.sampled_from(["delivered", "SM" + "c" * 32, "0"]))))
def test_property_signed_hostile_reports_never_500(callback, form):
    response = callback({"AccountSid": PRIMARY_SID, **form})
    assert response.status_code in (204, 400), (form, response.status_code)
