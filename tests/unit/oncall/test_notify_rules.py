"""Pages notify people by their own rules: rows per rule and repeat, quiet hours held in
the person's zone, important rules, the fallback to every channel for people without rules,
SMS and calls through the phone provider (a recording stand-in, see phone_fakes), and
acknowledging a page cancelling what is still pending."""
from datetime import UTC, datetime, time, timedelta

import pytest

from portal import events
from portal.integrations import smtp
from portal.oncall import notify, paging, rule_service
from portal.oncall.models import Page
from portal.oncall.rules import Rule
from tests.servers import closed_port
from tests.unit.oncall.phone_fakes import FakePhone

T0 = datetime(2026, 11, 18, 9, 0, tzinfo=UTC)  # 10:00 in Berlin
NIGHT = datetime(2026, 11, 18, 22, 30, tzinfo=UTC)  # 23:30 in Berlin
PHONE = "+49301234567"
SMS_THEN_CALLS = [Rule("sms"), Rule("voice", delay_minutes=2, repeat_count=2,
                                    repeat_interval_minutes=5)]


@pytest.fixture
def fake_phone():
    return FakePhone()


@pytest.fixture
def channels(fake_phone):
    # A relay nobody listens on: e-mail is configured, and fails if ever tried.
    return notify.Channels("k", "http://portal.test", max_attempts=2, phone=fake_phone,
                           relay=smtp.Relay("127.0.0.1", closed_port(), timeout=1))


@pytest.fixture
def page(session):
    row = Page(severity="sev2", title="Checkout slow", created_at=T0, due_at=T0)
    session.add(row)
    session.flush()
    return row


@pytest.fixture
def person(session, make_user):
    user = make_user("oncall")
    rule_service.save(session=session, user=user, phone=" +49 30 1234567 ",
                      timezone="Europe/Berlin", quiet_start=time(22, 0), quiet_end=time(7, 0),
                      rules={"default": [Rule("email")] + SMS_THEN_CALLS,
                             "important": [Rule("voice", repeat_count=1,
                                                repeat_interval_minutes=3)]})
    return user


def enqueue(session, page, user, channels, now, important=False):
    return notify.enqueue(session=session, page=page, user=user, why="you are paged",
                          channels=channels, now=now, important=important)


def test_rules_become_one_row_per_attempt_with_the_phone_number(session, page, person,
                                                                channels):
    rows = enqueue(session, page, person, channels, T0)
    assert [(n.channel, n.next_attempt_at - T0) for n in rows] == [
        ("email", timedelta(0)), ("sms", timedelta(0)), ("voice", timedelta(minutes=2)),
        ("voice", timedelta(minutes=7)), ("voice", timedelta(minutes=12))]
    assert all(n.status == "pending" and n.payload["important"] is False for n in rows)
    assert {n.payload.get("phone") for n in rows[1:]} == {PHONE}  # saved in E.164
    assert [n.payload["repeat"] for n in rows[2:]] == [0, 1, 2]
    assert "Checkout slow" in rows[2].payload["spoken"] and "http" not in rows[2].payload["spoken"]


def test_normal_pages_wait_for_the_end_of_quiet_hours_important_ones_do_not(
        session, page, person, channels):
    held = enqueue(session, page, person, channels, NIGHT)
    morning = datetime(2026, 11, 19, 6, 0, tzinfo=UTC)  # 07:00 in Berlin
    assert [n.next_attempt_at for n in held[:3]] == [morning, morning,
                                                     morning + timedelta(minutes=2)]
    assert held[0].payload["held"] is True
    urgent = enqueue(session, page, person, channels, NIGHT, important=True)
    assert [(n.channel, n.next_attempt_at) for n in urgent] == [
        ("voice", NIGHT), ("voice", NIGHT + timedelta(minutes=3))]
    assert all(n.payload["important"] for n in urgent)


def test_without_important_rules_an_important_page_uses_the_default_rules_at_once(
        session, page, make_user, channels):
    user = make_user("oncall")
    rule_service.save(session=session, user=user, phone=None, timezone="Europe/Berlin",
                      quiet_start=time(22, 0), quiet_end=time(7, 0),
                      rules={"default": [Rule("email", delay_minutes=1)]})
    [row] = enqueue(session, page, user, channels, NIGHT, important=True)
    assert (row.channel, row.next_attempt_at) == ("email", NIGHT + timedelta(minutes=1))


def test_people_without_rules_get_todays_one_message_per_channel(session, page, make_user,
                                                                 channels):
    rows = enqueue(session, page, make_user("oncall"), channels, NIGHT, important=True)
    # Without a phone number there is nobody to text or call: e-mail, as before.
    assert [(n.channel, n.next_attempt_at) for n in rows] == [("email", NIGHT)]
    assert rows[0].payload["important"] is True


def test_rules_the_portal_cannot_carry_are_skipped_and_none_left_means_fallback(
        session, page, person):
    email_only = notify.Channels("k", "http://portal.test",
                                 relay=smtp.Relay("127.0.0.1", closed_port()))
    assert email_only.names == ["email"]
    assert [n.channel for n in enqueue(session, page, person, email_only, T0)] == ["email"]
    # The important rules are all calls: nothing usable, so every configured channel.
    assert [n.channel for n in enqueue(session, page, person, email_only, T0,
                                       important=True)] == ["email"]


def test_sms_and_calls_go_through_the_phone_provider(session, page, person, channels,
                                                     fake_phone):
    enqueue(session, page, person, channels, T0)
    notify.deliver_due(session=session, channels=channels, now=T0 + timedelta(minutes=2))
    rows = notify.for_page(session=session, page=page)
    by_channel = {n.channel: n for n in rows if n.status == "sent"}
    assert set(by_channel) == {"sms", "voice"} and rows[0].status == "pending"  # mail retried
    assert fake_phone.sms == [{"to": PHONE, "body": rows[1].payload["text"]}]
    assert fake_phone.calls[0]["to"] == PHONE and "Checkout slow" in fake_phone.calls[0]["message"]
    assert by_channel["sms"].provider_ref.startswith("SM")
    assert by_channel["voice"].provider_ref.startswith("CA")


def test_provider_failures_are_retried_and_a_refused_number_fails_at_once(
        session, page, person, channels, fake_phone):
    enqueue(session, page, person, channels, T0, important=True)
    fake_phone.fail = ("transient", "every phone provider failed: primary: HTTP 503")
    notify.deliver_due(session=session, channels=channels, now=T0)
    first = notify.for_page(session=session, page=page)[0]
    assert first.status == "pending" and "HTTP 503" in first.last_error
    fake_phone.fail = ("rejected", "the number is not reachable by phone")
    notify.deliver_due(session=session, channels=channels, now=T0 + timedelta(minutes=5))
    assert {n.status for n in notify.for_page(session=session, page=page)} == {"failed"}
    assert fake_phone.calls == []


def test_acknowledging_cancels_what_is_still_pending(session, page, person, channels,
                                                     fake_phone):
    enqueue(session, page, person, channels, T0, important=True)
    notify.deliver_due(session=session, channels=channels, now=T0)
    paging.ack(session=session, page=page, user=person, now=T0 + timedelta(minutes=1))
    first, repeat = notify.for_page(session=session, page=page)
    assert first.status == "sent"
    assert (repeat.status, repeat.last_error) == ("cancelled", "page acknowledged")
    assert notify.deliver_due(session=session, channels=channels,
                              now=T0 + timedelta(hours=1)) == 0
    assert len(fake_phone.calls) == 1


def test_a_page_resolved_without_ack_sends_nothing_more(session, page, person, channels,
                                                        fake_phone):
    enqueue(session, page, person, channels, T0, important=True)
    paging.resolve(session=session, page=page, user=None, now=T0)
    assert notify.deliver_due(session=session, channels=channels, now=T0 + timedelta(hours=1)) == 0
    assert {n.status for n in notify.for_page(session=session, page=page)} == {"cancelled"}
    assert fake_phone.calls == []


def test_channels_take_the_phone_provider_from_the_config(app, monkeypatch, fake_phone):
    phone = notify.phone_module()
    monkeypatch.setattr(phone, "provider_from_config", lambda config: fake_phone)
    channels = notify.Channels.from_config(app.config)
    assert channels.phone is fake_phone and channels.names[-2:] == ["sms", "voice"]

    def half_configured(config):
        raise phone.PhoneError("PHONE_PROVIDER_PRIMARY is set but its token is not",
                               kind="provider")
    monkeypatch.setattr(phone, "provider_from_config", half_configured)
    broken = notify.Channels.from_config(app.config)
    assert "sms" not in broken.names and "token is not" in broken.phone_problem
    monkeypatch.setattr(phone, "provider_from_config", lambda config: None)
    assert notify.Channels.from_config(app.config).phone_problem == \
        "no phone provider is configured"


def test_a_delivery_report_that_a_call_was_not_answered_marks_it_failed(app, session, page,
                                                                       person, channels):
    enqueue(session, page, person, channels, T0, important=True)
    notify.deliver_due(session=session, channels=channels, now=T0)
    call = notify.for_page(session=session, page=page)[0]
    assert call.status == "sent"
    events.phone_status.send(None, session=session, kind="call", sid="CA" + "0" * 32,
                             status="completed", error_code=None, provider="primary")
    assert call.status == "sent"  # an unknown id changes nothing
    events.phone_status.send(None, session=session, kind="call", sid=call.provider_ref,
                             status="no-answer", error_code=None, provider="backup")
    assert (call.status, call.last_error) == ("failed", "backup provider reported no-answer")
