"""Notification channels against local servers: a real SMTP server (aiosmtpd), reached
through the portal's one SMTP client and its portal-wide SMTP_* settings, and a local
HTTP server standing in for Slack's incoming webhook (Slack cannot run here; the server
checks the documented Slack-compatible JSON body). Failures are retried a bounded number
of times and recorded."""
from datetime import UTC, datetime, timedelta

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Message

from portal.integrations import smtp
from portal.oncall import notify, paging
from portal.security import outbound
from tests.httpserver import LocalHTTPServer, QuietHandler
from tests.servers import closed_port, free_port

T0 = datetime(2026, 11, 18, 3, 0, tzinfo=UTC)
LOOPBACK = ("127.0.0.1",)  # the local chat server is a deliberate internal target


class Inbox(Message):
    def __init__(self):
        super().__init__()
        self.messages = []

    def handle_message(self, message):
        self.messages.append(message)


@pytest.fixture
def smtp_server():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller.port, inbox
    controller.stop()


@pytest.fixture
def chat_server():
    """A Slack-compatible incoming webhook: 200 for a JSON body with `text`, else 400."""
    received, status = [], {"code": 200}

    class Handler(QuietHandler):
        def do_POST(self):
            body = self.json_body()
            ok = self.headers["Content-Type"] == "application/json" and "text" in body
            received.append(body)
            self.reply(status["code"] if ok else 400)

    with LocalHTTPServer(Handler) as server:
        yield f"{server.url}/hooks/oncall", received, status


@pytest.fixture
def paged(session, make_user, make_schedule, seed_policies, team_with_service):
    team, svc = team_with_service
    primary = make_user("oncall")
    make_schedule([primary], slug="notify-sched", team=team)
    return primary, svc


def start(session, svc, channels):
    return paging.start_paging(session=session, incident_id=7, severity="sev1",
                               title="Orders failing", service_slugs=[svc.slug],
                               channels=channels, now=T0)


def test_page_is_delivered_by_email_and_chat_with_a_signed_link(
        session, paged, smtp_server, chat_server):
    primary, svc = paged
    (port, inbox), (url, received, _) = smtp_server, chat_server
    relay = smtp.Relay("127.0.0.1", port, "oncall@portal.test", timeout=5)
    channels = notify.Channels("k", "http://portal.test", webhook_url=url, relay=relay,
                               timeout=5, allowed_hosts=LOOPBACK)
    page = start(session, svc, channels)
    assert notify.deliver_due(session=session, channels=channels, now=T0) == 2
    assert {n.status for n in notify.for_page(session=session, page=page)} == {"sent"}
    mail = inbox.messages[0]
    assert mail["To"] == primary.email and "[SEV1] Orders failing" in mail["Subject"]
    assert mail["From"] == "oncall@portal.test"
    assert received[0]["channel"] == "#test-team" and "Orders failing" in received[0]["text"]
    body = mail.get_payload(decode=True).decode()
    assert "http://portal.test/oncall/pages/act/" in body
    token = body.split("/oncall/pages/act/")[1].split()[0]
    assert notify.read_action_token("k", token) == (page.id, primary.id)


def test_failing_channel_is_retried_with_backoff_then_marked_failed(
        session, paged, chat_server):
    _, svc = paged
    url, received, status = chat_server
    status["code"] = 500
    channels = notify.Channels("k", "http://portal.test", webhook_url=url, max_attempts=3,
                               allowed_hosts=LOOPBACK)
    page = start(session, svc, channels)
    note = notify.for_page(session=session, page=page)[0]
    now = T0
    for attempt in (1, 2, 3):
        assert notify.deliver_due(session=session, channels=channels, now=now) == 1
        assert note.attempts == attempt and outbound.FAILURE in note.last_error
        assert notify.deliver_due(session=session, channels=channels, now=now) == 0
        now = note.next_attempt_at
    assert note.status == "failed" and len(received) == 3
    assert notify.deliver_due(session=session, channels=channels,
                              now=T0 + timedelta(days=1)) == 0  # bounded: no fourth try


def test_dead_smtp_server_is_recorded_not_swallowed(session, paged):
    _, svc = paged
    channels = notify.Channels("k", "http://portal.test", max_attempts=1,
                               relay=smtp.Relay("127.0.0.1", closed_port(), timeout=2))
    page = start(session, svc, channels)
    notify.deliver_due(session=session, channels=channels, now=T0)
    note = notify.for_page(session=session, page=page)[0]
    assert note.status == "failed" and note.last_error.startswith("MailUnavailable: SMTP ")
    assert "Connection refused" in note.last_error


def test_channels_come_from_the_portal_wide_smtp_and_public_url_settings(app, session, paged,
                                                                         smtp_server):
    """SMTP_HOST/PORT/FROM and PUBLIC_BASE_URL drive page e-mails end to end; the on-call
    domain has no mail settings of its own any more."""
    _, svc = paged
    port, inbox = smtp_server
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=port, SMTP_FROM="pages@meridian.test",
                      PUBLIC_BASE_URL="https://portal.meridian.test/", SMTP_TIMEOUT=5.0,
                      ONCALL_NOTIFY_WEBHOOK_URL=None)
    assert not any(key.startswith(("ONCALL_SMTP", "ONCALL_LINK")) for key in app.config)
    channels = notify.Channels.from_config(app.config)
    assert channels.names == ["email"] and channels.link_base == "https://portal.meridian.test"
    start(session, svc, channels)
    assert notify.deliver_due(session=session, channels=channels, now=T0) == 1
    [mail] = inbox.messages
    assert mail["From"] == "pages@meridian.test"
    assert "https://portal.meridian.test/oncall/pages/act/" in mail.get_payload(decode=True).decode()
    app.config["SMTP_HOST"] = None
    assert notify.Channels.from_config(app.config).names == []


def test_tampered_or_expired_action_token_is_refused():
    token = notify.action_token("k", page_id=1, user_id=2)
    with pytest.raises(ValueError, match="not valid"):
        notify.read_action_token("other-key", token)
    with pytest.raises(ValueError, match="not valid"):
        notify.read_action_token("k", token[:-2] + "xx")
