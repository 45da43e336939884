"""A deprovisioned person's future shifts: one open notice per schedule, mailed to the
managers once through a real SMTP server (aiosmtpd), retried within a bound."""
from datetime import UTC, datetime

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Message
from sqlalchemy import select

from portal.integrations import smtp
from portal.oncall import roster_notices
from portal.oncall.roster_notice_models import RosterNotice
from portal.oncall.tasks import BEAT_SCHEDULE
from tests.servers import closed_port, free_port

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


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


def test_flag_lists_only_the_persons_future_shifts_once(session, make_user, make_schedule):
    leaver, stayer = make_user("oncall"), make_user("oncall")
    manager = make_user("manager")
    schedule = make_schedule([leaver, stayer], slug="rota-a", tz="UTC")
    make_schedule([stayer], slug="rota-b", tz="UTC")
    (notice,) = roster_notices.flag(session=session, user_id=leaver.id, email=leaver.email,
                                    name=leaver.name, link_base="https://portal.test", now=NOW)
    assert notice.schedule_id == schedule.id and notice.delivery == "pending"
    # Every other week of the twelve ahead: the shift in progress (from now on), five whole
    # ones, and the start of the one the horizon cuts.
    assert len(notice.shifts) == 7 and notice.shifts[0]["starts_at"] == NOW.isoformat()
    assert {s["layer"] for s in notice.shifts} == {"primary"}
    assert manager.email in notice.payload["to"] and leaver.email not in notice.payload["to"]
    assert "https://portal.test/oncall/schedules/rota-a" in notice.payload["text"]
    roster_notices.flag(session=session, user_id=leaver.id, email=leaver.email,
                        name=leaver.name, link_base="https://portal.test", now=NOW)
    assert len(session.scalars(select(RosterNotice)).all()) == 1
    roster_notices.resolve(session=session, schedule=schedule, notice_id=notice.id, by="m")
    assert roster_notices.open_for(session=session, schedule=schedule) == []
    with pytest.raises(LookupError):
        roster_notices.resolve(session=session, schedule=schedule, notice_id=notice.id, by="m")


def test_delivery_retries_then_sends_once(session, make_user, make_schedule, smtp_server):
    relay, inbox = smtp_server
    leaver, manager = make_user("oncall"), make_user("manager")
    make_schedule([leaver], slug="rota-c", tz="UTC")
    (notice,) = roster_notices.flag(session=session, user_id=leaver.id, email=leaver.email,
                                    name=leaver.name, link_base="https://portal.test", now=NOW)
    dead = smtp.Relay("127.0.0.1", closed_port(), "oncall@portal.test", timeout=1)
    assert roster_notices.deliver(session=session, relay=dead, max_attempts=2) == 1
    assert (notice.delivery, notice.attempts) == ("pending", 1) and notice.last_error
    assert roster_notices.deliver(session=session, relay=relay, max_attempts=2) == 1
    assert notice.delivery == "sent" and notice.last_error is None
    assert manager.email in [m["To"] for m in inbox.messages]
    assert all("rota-c" in m["Subject"] or "rota-c" in m.get_payload() for m in inbox.messages)
    assert roster_notices.deliver(session=session, relay=relay, max_attempts=2) == 0


def test_the_notice_mail_runs_on_the_beat():
    entry = BEAT_SCHEDULE["oncall-roster-notice-tick"]
    assert entry["task"] == "portal.oncall.tasks.roster_notice_tick"
