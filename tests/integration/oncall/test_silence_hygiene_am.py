"""Silence hygiene against a real Alertmanager started by the tests: the silences page lists
a silence ending soon and one matching no current alert; extending one as an on-call user
moves its end in Alertmanager and is audited; and the beat task e-mails the creator of a
portal silence exactly once through a real SMTP server (aiosmtpd), skipping silences made
by tools. Every silence carries a label unique to its test, since the Alertmanager is
shared by the session."""
import secrets
from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Message
from sqlalchemy import select

from portal.auth.models import AuditEntry
from portal.db import utcnow
from portal.integrations.alertmanager import AlertmanagerClient, Matcher, NewSilence, iso
from portal.oncall import tasks
from portal.oncall.models import SilenceExpiryNotice
from tests.servers import free_port

pytestmark = pytest.mark.integration


@pytest.fixture
def am(alertmanager_url):
    return AlertmanagerClient(alertmanager_url, timeout=3)


@pytest.fixture
def portal(app, client, login_as, alertmanager_url):
    app.config.update(ALERTMANAGER_URL=alertmanager_url, ONCALL_SILENCE_MAX_HOURS=72)
    return login_as("oncall")


@pytest.fixture
def run():
    """A label value unique to this test."""
    return f"hyg-{secrets.token_hex(4)}"


def push(am, name, run):
    now = utcnow()
    am.post_alerts([{"labels": {"alertname": name, "run": run},
                     "annotations": {"summary": f"{name} is firing"},
                     "startsAt": iso(now), "endsAt": iso(now + timedelta(hours=1))}])


def silence(am, name, run, ends_in, *, by="amtool"):
    now = utcnow()
    return am.create_silence(NewSilence(
        (Matcher("alertname", name), Matcher("run", run)), now, now + ends_in, by,
        "storage migration in progress"))


def section(body, name):
    start = body.index(f'id="silences-{name}"')
    return body[start:body.index("</section>", start)]


def test_page_lists_silences_ending_soon_and_matching_nothing(am, portal, client, run):
    push(am, "HygieneFiring", run)
    soon = silence(am, "HygieneFiring", run, timedelta(minutes=30), by=portal.email)
    idle = silence(am, "HygieneNothing", run, timedelta(hours=48))
    body = client.get("/oncall/silences/").get_data(as_text=True)
    expiring, unmatched = section(body, "expiring"), section(body, "unmatched")
    assert f'data-silence="{soon}"' in expiring and portal.email in expiring
    assert f'data-silence="{idle}"' not in expiring
    assert f'data-silence="{idle}"' in unmatched and f'data-silence="{soon}"' not in unmatched
    assert "Extend" in expiring
    fragment = client.htmx("GET", "/oncall/silences/hygiene").get_data(as_text=True)
    assert fragment.startswith('<div id="silence-hygiene">') and "<html" not in fragment
    assert f'data-silence="{idle}"' in section(fragment, "unmatched")
    page = client.get("/oncall/silences/hygiene").get_data(as_text=True)
    assert "<html" in page and f'data-silence="{soon}"' in section(page, "expiring")


def test_extend_moves_the_end_in_alertmanager_and_is_audited(am, portal, client, session, run):
    old = silence(am, "HygieneExtend", run, timedelta(minutes=20))
    before = utcnow()
    response = client.post_form(f"/oncall/silences/{old}/extend", {"hours": "6"})
    assert response.status_code == 303 and response.headers["Location"].endswith(
        "/oncall/silences/")
    entry = session.scalars(select(AuditEntry).where(
        AuditEntry.action == "oncall.silence_extend")).one()
    assert entry.actor_email == portal.email and entry.details["previous_id"] == old
    assert entry.details["hours"] == 6
    extended = am.get_silence(entry.target_id)
    assert extended.state == "active" and extended.created_by == portal.email
    assert before + timedelta(hours=6) <= extended.ends_at <= utcnow() + timedelta(hours=6)
    assert extended.matchers == (Matcher("alertname", "HygieneExtend"), Matcher("run", run))
    if entry.target_id != old:  # replaced rather than updated: the old one must be over
        assert am.get_silence(old).state == "expired"
    active = [s for s in am.list_silences() if s.state == "active"
              and Matcher("run", run) in s.matchers]
    assert [s.id for s in active] == [entry.target_id]


def test_extend_through_htmx_answers_with_the_sections(am, portal, client, run):
    old = silence(am, "HygieneHtmx", run, timedelta(minutes=20))
    response = client.htmx("POST", f"/oncall/silences/{old}/extend", data={"hours": "2"},
                           follow_redirects=True)
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and body.startswith('<div id="silence-hygiene">')
    assert "now ends 2 h from now" in body


@pytest.mark.parametrize("hours, message", [("73", "1 to 72 hours"),
                                            ("1", "already lasts longer")])
def test_extend_refuses_beyond_the_limit_or_shorter(am, portal, client, run, hours, message):
    old = silence(am, "HygieneLimit", run, timedelta(hours=3))
    response = client.post_form(f"/oncall/silences/{old}/extend", {"hours": hours})
    assert response.status_code == 422 and message in response.get_data(as_text=True)
    assert am.get_silence(old).ends_at < utcnow() + timedelta(hours=3, minutes=1)


def test_extend_of_an_expired_or_unknown_silence_is_refused(am, portal, client, run):
    old = silence(am, "HygieneOver", run, timedelta(hours=1))
    am.expire_silence(old)
    response = client.post_form(f"/oncall/silences/{old}/extend", {"hours": "4"})
    assert response.status_code == 422 and "this one is expired" in response.get_data(
        as_text=True)
    unknown = "00000000-0000-4000-8000-000000000000"
    assert client.post_form(f"/oncall/silences/{unknown}/extend",
                            {"hours": "4"}).status_code == 404


class Inbox(Message):
    def __init__(self):
        super().__init__()
        self.messages = []

    def handle_message(self, message):
        self.messages.append(message)


@pytest.fixture
def smtp_inbox(app):
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=controller.port, SMTP_TIMEOUT=5,
                      PUBLIC_BASE_URL="http://portal.test")
    yield inbox
    controller.stop()


def test_the_beat_task_emails_the_creator_exactly_once(am, app, portal, client, session, run,
                                                       smtp_inbox):
    app.config["ONCALL_SILENCE_EXPIRY_NOTICE_MINUTES"] = 61
    form = {"matchers-0-name": "alertname", "matchers-0-operator": "=",
            "matchers-0-value": "HygieneNotice", "matchers-1-name": "run",
            "matchers-1-operator": "=", "matchers-1-value": run,
            "duration": "1", "comment": "storage migration in progress"}
    assert client.post_form("/oncall/silences/", form).status_code == 303
    silence(am, "HygieneTool", run, timedelta(minutes=10))  # by amtool: nobody to tell
    silence(am, "HygieneLater", run, timedelta(hours=3), by=portal.email)  # beyond the lead

    first = tasks.silence_expiry_tick()
    second = tasks.silence_expiry_tick()
    assert (first["claimed"], second["claimed"]) == (1, 0)
    [mail] = smtp_inbox.messages
    assert mail["To"] == portal.email and "ends at" in mail["Subject"]
    text = mail.get_payload(decode=True).decode()
    assert 'alertname="HygieneNotice"' in text and "http://portal.test/oncall/silences/" in text
    notice = session.scalars(select(SilenceExpiryNotice).where(
        SilenceExpiryNotice.recipient == portal.email)).one()
    assert notice.status == "sent"

    # Extended past the lead time, then close to its new end: a second notice, for that end.
    assert client.post_form(f"/oncall/silences/{notice.silence_id}/extend",
                            {"hours": "2"}).status_code == 303
    assert tasks.silence_expiry_tick()["claimed"] == 0
    app.config["ONCALL_SILENCE_EXPIRY_NOTICE_MINUTES"] = 121
    assert tasks.silence_expiry_tick()["claimed"] == 1
    assert [m["To"] for m in smtp_inbox.messages] == [portal.email, portal.email]
