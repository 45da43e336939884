"""Silence hygiene without Alertmanager: which silences end soon and which match nothing (a
fixed clock, Alertmanager's matcher rules), the notice claim that holds even with two
workers racing on separate database connections (a real SMTP server, aiosmtpd, counts the
mails), and the extend endpoint's authorization and hostile input, which are judged before
any call to Alertmanager."""
import secrets
import threading
from datetime import UTC, datetime, timedelta

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Message
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from portal.auth import service as accounts
from portal.auth.models import User
from portal.integrations import smtp
from portal.integrations.alertmanager import Alert, Matcher, Silence
from portal.oncall import silence_hygiene as hygiene
from portal.oncall.models import SilenceExpiryNotice
from portal.oncall.silences import SilenceError
from tests.servers import closed_port, free_port

T0 = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
LINK = "http://portal.test/oncall/silences/"


def silence(sid, ends_in, *matchers, state="active", by="someone@test.example"):
    return Silence(id=sid, matchers=matchers or (Matcher("alertname", "X"),),
                   starts_at=T0 - timedelta(hours=1), ends_at=T0 + ends_in, created_by=by,
                   comment="database failover drill", state=state)


def alert(**labels):
    return Alert(fingerprint=secrets.token_hex(4), labels=labels, annotations={},
                 starts_at=T0, ends_at=None, state="active")


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
    yield smtp.Relay("127.0.0.1", controller.port, "oncall@portal.test", timeout=5), inbox
    controller.stop()


def test_expiring_soon_is_active_within_24_hours_soonest_first():
    listed = [silence("late", timedelta(hours=23)), silence("soon", timedelta(minutes=5)),
              silence("beyond", timedelta(hours=24, seconds=1)),
              silence("over", timedelta(seconds=0)),
              silence("pending", timedelta(hours=1), state="pending"),
              silence("expired", timedelta(hours=1), state="expired")]
    assert [s.id for s in hygiene.expiring_soon(silences=listed, now=T0)] == ["soon", "late"]
    assert [s.id for s in hygiene.expiring_soon(silences=listed, now=T0 + timedelta(hours=2))] \
        == ["late", "beyond"]


@pytest.mark.parametrize("matcher, labels, hit", [
    (Matcher("job", "api"), {"job": "api"}, True),
    (Matcher("job", "api"), {"job": "api-2"}, False),
    (Matcher("job", "api", is_equal=False), {"job": "web"}, True),
    (Matcher("job", "api", is_equal=False), {"job": "api"}, False),
    (Matcher("job", "api|web", is_regex=True), {"job": "web"}, True),
    (Matcher("job", "api", is_regex=True), {"job": "api-gateway"}, False),  # fully anchored
    (Matcher("job", "api", is_regex=True), {"job": "my-api"}, False),
    (Matcher("job", "api.*", is_regex=True, is_equal=False), {"job": "web"}, True),
    (Matcher("job", "api.*", is_regex=True, is_equal=False), {"job": "api-x"}, False),
    (Matcher("team", "", is_equal=True), {"job": "api"}, True),  # missing label reads as ""
    (Matcher("team", ".+", is_regex=True), {"job": "api"}, False),
])
def test_matchers_are_evaluated_like_alertmanager(matcher, labels, hit):
    assert hygiene.silences_alert(silence("s", timedelta(hours=1), matcher), alert(**labels)) \
        is hit


def test_matching_nothing_needs_every_matcher_to_hold_for_one_alert():
    both = (Matcher("alertname", "Down"), Matcher("service", "orders"))
    listed = [silence("idle", timedelta(hours=2), *both),
              silence("used", timedelta(hours=1), Matcher("alertname", "Down")),
              silence("bad-regex", timedelta(hours=3), Matcher("job", "(", is_regex=True)),
              silence("old", timedelta(hours=1), Matcher("alertname", "Gone"), state="expired")]
    firing = [alert(alertname="Down", service="billing"), alert(alertname="Up", service="orders")]
    assert [s.id for s in hygiene.matching_nothing(silences=listed, alerts=firing)] \
        == ["idle", "bad-regex"]
    assert [s.id for s in hygiene.matching_nothing(silences=listed, alerts=[])] \
        == ["used", "idle", "bad-regex"]


@pytest.mark.parametrize("raw", ["", "0", "73", "-1", "1.5", "٣", "４", "9" * 40, "4h", None])
def test_extension_hours_are_whole_ascii_numbers_within_the_limit(raw):
    with pytest.raises(SilenceError):
        hygiene.parse_hours(raw, max_hours=72)


def test_extension_hours_accepts_the_bounds():
    assert hygiene.parse_hours(" 1 ", max_hours=72) == 1
    assert hygiene.parse_hours("72", max_hours=72) == 72


def test_notices_go_to_portal_users_once_per_end_and_again_when_extended(session, make_user):
    creator = make_user("oncall")
    mine = silence("a1", timedelta(minutes=30), by=creator.email.upper())
    listed = [mine, silence("later", timedelta(minutes=90), by=creator.email),
              silence("tool", timedelta(minutes=10), by="amtool")]
    lead = timedelta(minutes=60)
    [notice] = hygiene.claim_notices(session=session, silences=listed, lead=lead, link=LINK,
                                     now=T0)
    assert (notice.silence_id, notice.recipient, notice.status) == ("a1", creator.email,
                                                                    "pending")
    assert "ends at 2026-12-07 09:30 UTC" in notice.payload["subject"]
    assert LINK in notice.payload["text"] and 'alertname="X"' in notice.payload["text"]
    assert hygiene.claim_notices(session=session, silences=listed, lead=lead, link=LINK,
                                 now=T0 + timedelta(minutes=5)) == []
    extended = silence("a1", timedelta(minutes=50), by=creator.email)
    [again] = hygiene.claim_notices(session=session, silences=[extended], lead=lead, link=LINK,
                                    now=T0 + timedelta(minutes=5))
    assert again.ends_at == T0 + timedelta(minutes=50)
    assert hygiene.claim_notices(session=session, silences=listed, lead=timedelta(0),
                                 link=LINK, now=T0) == []


def test_delivery_records_success_and_bounded_failures(session, make_user, smtp_server):
    relay, inbox = smtp_server
    creator = make_user("oncall")
    hygiene.claim_notices(session=session, silences=[silence("b1", timedelta(minutes=20),
                                                             by=creator.email)],
                          lead=timedelta(hours=1), link=LINK, now=T0)
    dead = smtp.Relay("127.0.0.1", closed_port(), "oncall@portal.test", timeout=1)
    assert hygiene.deliver_notices(session=session, relay=dead, max_attempts=2, now=T0) == 1
    notice = session.scalar(select(SilenceExpiryNotice).where(
        SilenceExpiryNotice.silence_id == "b1"))
    assert (notice.status, notice.attempts) == ("pending", 1) and notice.last_error
    assert hygiene.deliver_notices(session=session, relay=relay, max_attempts=2, now=T0) == 1
    assert (notice.status, notice.sent_at, notice.last_error) == ("sent", T0, None)
    assert [m["To"] for m in inbox.messages] == [creator.email]
    assert hygiene.deliver_notices(session=session, relay=relay, max_attempts=2, now=T0) == 0


def test_two_workers_racing_send_exactly_one_notice(engine, smtp_server):
    """Two ticks on their own connections, released together, each committing for real."""
    relay, inbox = smtp_server
    sid = f"race-{secrets.token_hex(4)}"
    email = f"race-{secrets.token_hex(4)}@test.example"
    with Session(engine) as setup:
        accounts.create(session=setup, email=email, name="Racer", password="x" * 16,
                        roles=["oncall"], tenant_id=None,
                        params={"time_cost": 1, "memory_cost": 1024, "parallelism": 1})
        setup.commit()
    due = [silence(sid, timedelta(minutes=15), by=email)]
    barrier, results, errors = threading.Barrier(2), [], []

    def tick():
        try:
            with Session(engine) as worker:
                barrier.wait(timeout=10)
                claimed = hygiene.claim_notices(session=worker, silences=due,
                                                lead=timedelta(hours=1), link=LINK, now=T0)
                worker.commit()
                sent = hygiene.deliver_notices(session=worker, relay=relay, max_attempts=3,
                                               now=T0)
                worker.commit()
                results.append((len(claimed), sent))
        except Exception as exc:  # surfaced by the assertion below, not lost in the thread
            errors.append(exc)

    workers = [threading.Thread(target=tick) for _ in range(2)]
    try:
        for w in workers:
            w.start()
        for w in workers:
            w.join(timeout=30)
        assert errors == []
        assert sorted(claimed for claimed, _ in results) == [0, 1]
        assert [m["To"] for m in inbox.messages if sid[:8] in m["Subject"]] == [email]
    finally:
        with Session(engine) as cleanup:
            cleanup.execute(delete(SilenceExpiryNotice).where(
                SilenceExpiryNotice.silence_id == sid))
            cleanup.execute(delete(User).where(User.email == email))
            cleanup.commit()


@pytest.fixture
def connected(app):
    # A dead Alertmanager: each refusal below must come before any call would be made.
    app.config.update(ALERTMANAGER_URL=f"http://127.0.0.1:{closed_port()}",
                      ALERTMANAGER_TIMEOUT=0.5, ONCALL_SILENCE_MAX_HOURS=72)


SILENCE_ID = "6f1c2b0e-3a4d-4c5e-9f60-7a8b9c0d1e2f"


def test_anonymous_visitors_are_sent_to_sign_in(client, connected):
    response = client.get("/oncall/silences/hygiene")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


@pytest.mark.parametrize("roles", [("developer",), ("tenant_viewer",)])
def test_only_oncall_roles_may_see_or_extend(client, login_as, connected, roles):
    login_as(*roles)
    assert client.get("/oncall/silences/hygiene").status_code == 403
    response = client.post_form(f"/oncall/silences/{SILENCE_ID}/extend", {"hours": "4"})
    assert response.status_code == 403


@pytest.mark.parametrize("hours, status, message", [
    ("99999999999999999999", 400, "whole number no larger"),
    ("4\x00", 400, "NUL character"),
    ("73", 422, "1 to 72 hours"),
    ("٣", 422, "whole number of hours"),
    ("", 422, "whole number of hours"),
])
def test_hostile_extension_hours_are_refused_with_a_4xx(client, login_as, connected, hours,
                                                        status, message):
    login_as("oncall")
    response = client.post_form(f"/oncall/silences/{SILENCE_ID}/extend", {"hours": hours})
    assert response.status_code == status
    assert message in response.get_data(as_text=True)


@pytest.mark.parametrize("silence_id", ["not a silence", "x" * 65, "%00"])
def test_extend_of_something_that_is_no_silence_id_is_not_found(client, login_as, connected,
                                                                 silence_id):
    login_as("manager")
    response = client.post_form(f"/oncall/silences/{silence_id}/extend", {"hours": "4"})
    assert response.status_code in (400, 404)


def test_the_expiry_notice_runs_on_the_beat_every_few_minutes(app):
    celery = app.extensions["celery"]
    entry = celery.conf.beat_schedule["oncall-silence-expiry-tick"]
    assert entry["task"] == "portal.oncall.tasks.silence_expiry_tick" in celery.tasks
    assert entry["schedule"] <= 300
