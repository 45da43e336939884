"""Security events of the portal: failed sign-ins, 403s and refused hostile input reach
the audit log as `security.*` and `meridian_security_events_total{kind}`, and a flood of
anonymous events writes a bounded number of audit rows while the counter counts all."""
from __future__ import annotations

from sqlalchemy import select

from portal.auth.models import AuditEntry
from portal.security import events


def _entries(session, action):
    return list(session.scalars(select(AuditEntry).where(AuditEntry.action == action)
                                .order_by(AuditEntry.id)))


def _count(client, kind: str) -> float:
    prefix = f'meridian_security_events_total{{kind="{kind}"}} '
    for line in client.get("/metrics").get_data(as_text=True).splitlines():
        if line.startswith(prefix):
            return float(line[len(prefix):])
    raise AssertionError(f"no {prefix!r} sample")


def test_failed_sign_in_is_a_security_event(client, make_user, session):
    user = make_user("developer")
    assert _count(client, "login_failed") == 0
    response = client.post_form("/login", {"email": user.email, "password": "wrong"})
    assert response.status_code == 401
    (entry,) = _entries(session, "security.login_failed")
    assert (entry.actor_email, entry.outcome, entry.details["reason"], str(entry.ip)) == (
        user.email, "failure", "bad_password", "127.0.0.1")
    assert _count(client, "login_failed") == 1


def test_a_403_is_recorded_with_who_and_where(client, login_as, session):
    user = login_as("developer")
    assert client.get("/admin/audit").status_code == 403
    (entry,) = _entries(session, "security.forbidden")
    assert entry.actor_id == user.id and entry.outcome == "denied"
    assert entry.details == {"method": "GET", "path": "/admin/audit"}
    assert _count(client, "forbidden") == 1


def test_refused_hostile_input_is_recorded(client, session):
    assert client.get("/login?page=%00").status_code == 400
    (entry,) = _entries(session, "security.hostile_input")
    assert "NUL" in entry.details["reason"] and entry.actor_id is None
    assert _count(client, "hostile_input") == 1


def test_a_flood_of_anonymous_events_writes_a_bounded_number_of_rows(client, session):
    per_source = events.PER_SOURCE.amount
    for _ in range(per_source + 5):  # one address
        client.get("/login?page=%00", environ_base={"REMOTE_ADDR": "203.0.113.9"})
    rows = _entries(session, "security.hostile_input")
    assert len(rows) == per_source
    assert rows[-1].details["limited"] == events.LIMITED_NOTE
    total = events.ANONYMOUS_TOTAL.amount
    for n in range(total + 10):  # many addresses, a few events each at most
        client.get("/login?page=%00", environ_base={"REMOTE_ADDR": f"198.51.100.{n % 250}"})
    assert len(_entries(session, "security.hostile_input")) == total
    assert _count(client, "hostile_input") == per_source + 5 + total + 10
