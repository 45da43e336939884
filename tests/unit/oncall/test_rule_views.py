"""The "My notification rules" page: who may open it, CSRF, inline validation, row editing,
saving with an audit entry, the admin's read-only view, hostile input (hypothesis), and
"Send me a test page" against a real SMTP server (aiosmtpd) and the phone stand-in."""
import re
from datetime import time

import pytest
from aiosmtpd.controller import Controller
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from portal.auth.models import AuditEntry
from portal.oncall import notify, rule_service
from portal.oncall.rule_models import NotificationRule
from portal.oncall.rules import Rule
from tests.servers import free_port
from tests.unit.oncall.phone_fakes import FakePhone
from tests.unit.oncall.test_notify import Inbox
from tests.unit.test_security_inputs import hostile

URL = "/oncall/me/notifications"
ROW_FIELDS = ("channel", "delay_minutes", "repeat_count", "repeat_interval_minutes")


def rows(prefix: str, *values) -> dict:
    return {f"{prefix}-{n}-{name}": str(v) for n, row in enumerate(values)
            for name, v in zip(ROW_FIELDS, row)}


VALID = {"phone": "+49 30 1234567", "timezone": "Europe/Berlin", "quiet_start": "22:00",
         "quiet_end": "07:00", **rows("default_rules", ("email", 0, 0, 5), ("sms", 2, 0, 5)),
         **rows("important_rules", ("sms", 0, 0, 5), ("voice", 2, 2, 5))}


def audited(session, action):
    return session.scalars(select(AuditEntry).where(AuditEntry.action == action)).all()


def saved_rules(session, user):
    return session.scalars(select(NotificationRule).where(NotificationRule.user_id == user.id)
                           .order_by(NotificationRule.kind, NotificationRule.position)).all()


@pytest.mark.parametrize("roles, status", [(("oncall",), 200), (("admin",), 200),
                                           (("developer",), 403), (("tenant_viewer",), 403)])
def test_who_may_open_the_page(client, login_as, roles, status):
    login_as(*roles)
    assert client.get(URL).status_code == status
    assert client.post_form(URL, VALID).status_code == (303 if status == 200 else 403)


def test_anonymous_people_are_sent_to_sign_in(client):
    assert client.get(URL).status_code == 302
    assert client.post(URL + "/test").status_code in (302, 400)


def test_the_page_is_linked_from_the_account_menu_and_the_oncall_page(client, login_as):
    login_as("oncall")
    page = client.get("/oncall/").get_data(as_text=True)
    assert 'id="notification-rules-link"' in page and 'id="my-notification-rules"' in page


def test_saving_stores_the_rules_in_order_and_audits(client, login_as, session):
    user = login_as("oncall")
    response = client.post_form(URL, VALID)
    assert response.status_code == 303
    plan = rule_service.plan_for(session=session, user=user)
    assert (plan.phone, plan.timezone) == ("+49301234567", "Europe/Berlin")
    session.refresh(user)
    assert user.timezone == "Europe/Berlin"  # the portal shows their times in it too
    assert (plan.quiet.start, plan.quiet.end) == (time(22), time(7))
    assert plan.rules["important"] == [Rule("sms"), Rule("voice", 2, 2, 5)]
    [entry] = audited(session, "oncall.notification_rules_update")
    assert entry.actor_id == user.id and entry.details["phone_set"] is True
    page = client.get(URL).get_data(as_text=True)
    assert 'value="+49301234567"' in page and 'id="important-row-2"' in page


def test_a_post_without_csrf_token_is_refused(client, login_as, session):
    user = login_as("oncall")
    assert client.post(URL, data=VALID).status_code == 400
    assert saved_rules(session, user) == []


INVALID = [
    ({"phone": "030 1234567"}, "starting with +"),
    ({"phone": "+1 200 555 0100"}, "numbering plan"),
    ({"phone": "+49 1"}, "not a phone number"),
    ({"timezone": "Mars/Olympus"}, "time zone from the list"),
    ({"quiet_end": ""}, "both the start and the end"),
    ({"phone": "", **rows("default_rules", ("voice", 0, 0, 5))}, "needs your phone number"),
    (rows("default_rules", ("email", 99999, 0, 5)), "0 to 1440 minutes"),
    (rows("important_rules", ("pager", 0, 0, 5)), "Not a valid choice"),
    (rows("important_rules", ("sms", 0, 11, 5)), "0 to 10 times"),
]


def test_invalid_input_is_shown_next_to_its_field_and_nothing_is_saved(client, login_as,
                                                                      session):
    user = login_as("oncall")
    for change, message in INVALID:
        response = client.post_form(URL, {**VALID, **change})
        assert response.status_code == 422, change
        body = response.get_data(as_text=True)
        assert message in body and 'class="field-error"' in body, (change, message)
    assert saved_rules(session, user) == []
    assert audited(session, "oncall.notification_rules_update") == []


def test_rows_are_added_moved_and_removed_without_saving(client, login_as, session):
    user = login_as("oncall")
    edit = URL + "/rows"
    response = client.post_form(edit, {**VALID, "op": "add:default"})
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and 'id="default-row-3"' in body
    response = client.post_form(edit, {**VALID, "op": "up:important:2"})
    body = response.get_data(as_text=True)
    first = re.search(r'<tr id="important-row-1">.*?</tr>', body, flags=re.S).group(0)
    assert 'value="voice" selected' in first or 'selected value="voice"' in first
    response = client.htmx("POST", edit, data={**VALID, "op": "remove:default:1"})
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<html" not in body and 'id="rules-form"' in body  # htmx: just the form
    assert 'id="default-row-2"' not in body
    assert 'name="default_rules-0-channel"' in body  # renumbered from 0
    for bad in ("up:important:1", "remove:default:9", "down:x:1", "add", "up:default:١"):
        assert client.post_form(edit, {**VALID, "op": bad}).status_code == 400
    assert saved_rules(session, user) == []


def test_admins_may_view_anyones_rules_but_others_may_not(client, login_as, make_user,
                                                          session):
    person = make_user("oncall")
    rule_service.save(session=session, user=person, phone="+14155552671",
                      timezone="America/New_York", quiet_start=None, quiet_end=None,
                      rules={"default": [Rule("sms", 1)]})
    session.commit()
    url = f"/oncall/people/{person.id}/notifications"
    login_as("oncall")
    assert client.get(url).status_code == 403
    client.post_form("/logout")
    login_as("admin")
    body = client.get(url).get_data(as_text=True)
    assert "+14155552671" in body and "America/New_York" in body and "SMS" in body
    assert client.get("/oncall/people/99999999/notifications").status_code == 404


@pytest.fixture
def smtp_server():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller.port, inbox
    controller.stop()


@pytest.fixture
def fake_phone(monkeypatch):
    phone = FakePhone()
    monkeypatch.setattr(notify.phone_module(), "provider_from_config", lambda config: phone)
    return phone


def test_send_me_a_test_page_reports_each_channel(app, client, login_as, session,
                                                  smtp_server, fake_phone):
    port, inbox = smtp_server
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=port, SMTP_TIMEOUT=5.0,
                      ONCALL_NOTIFY_WEBHOOK_URL=None)
    user = login_as("oncall")
    client.post_form(URL, {**VALID, **rows("important_rules", ("chat", 0, 0, 5))})
    response = client.htmx("POST", URL + "/test")
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in body
    outcome = dict(re.findall(r"<strong>([^<]+)</strong>: <span class=\"badge \w+\">(\w+)",
                              body))
    assert outcome == {"E-mail": "sent", "SMS": "sent", "Phone call": "sent",
                       "Team chat": "failed"}
    assert "not configured on the portal" in body and "provider id SM" in body
    [mail] = inbox.messages
    assert mail["To"] == user.email and "test page" in mail["Subject"].lower()
    assert fake_phone.sms[0]["to"] == fake_phone.calls[0]["to"] == "+49301234567"
    [entry] = audited(session, "oncall.notification_test")
    assert entry.outcome == "failure"
    assert [r[:2] for r in entry.details["results"]] == [
        ["email", True], ["sms", True], ["chat", False], ["voice", True]]
    # Every click may cost an SMS and a call: one test a minute.
    assert client.htmx("POST", URL + "/test").status_code == 429


def test_a_failing_phone_provider_is_shown_with_its_reason(client, login_as, fake_phone):
    login_as("oncall")
    client.post_form(URL, {**VALID, **rows("default_rules", ("voice", 0, 0, 5)),
                           **rows("important_rules")})
    fake_phone.fail = ("transient", "every phone provider failed: primary: HTTP 503")
    body = client.htmx("POST", URL + "/test").get_data(as_text=True)
    assert "Phone call</strong>: <span class=\"badge bad\">failed" in body
    assert "HTTP 503" in body


FORM_FIELDS = ["phone", "timezone", "quiet_start", "quiet_end", "op",
               *[f"{kind}_rules-{n}-{name}" for kind in ("default", "important")
                 for n in ("0", "1", "99999999999999999999") for name in ROW_FIELDS]]


@settings(max_examples=12, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_hostile_input_gives_a_4xx_or_field_errors_never_a_500(client, login_as, data):
    if client.get(URL).status_code != 200:
        login_as("oncall")
    url = data.draw(st.sampled_from([URL, URL + "/rows"]), label="url")
    form = {**VALID, **{name: data.draw(hostile) for name in data.draw(
        st.lists(st.sampled_from(FORM_FIELDS), min_size=1, max_size=6, unique=True),
        label="fields")}}
    response = client.post_form(url, form)
    assert response.status_code < 500, (form, response.get_data(as_text=True)[:300])
    assert response.status_code in (200, 303, 400, 413, 422), response.status_code
