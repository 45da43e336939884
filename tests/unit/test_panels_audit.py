"""The audit tables read only the columns they show, and render as they did from the
mapped entries."""
from __future__ import annotations

from flask import render_template
from sqlalchemy import select

from portal.auth import audit
from portal.auth.models import AuditEntry


def test_rows_render_as_the_entries(app, session):
    audit.record(session=session, action="test.one", actor_email="a@test.example",
                 target_type="thing", target_id=7, details={"why": "because"},
                 origin=audit.Origin(ip="10.9.8.7", request_id="r1"))
    audit.record(session=session, action="test.two", outcome="denied")
    session.commit()
    entities = list(session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())
                                    .limit(5)))
    rows = audit.recent(session=session, limit=5)
    assert [r.id for r in rows] == [e.id for e in entities]
    searched = audit.search(session=session, flt=audit.AuditFilter(action="test."), limit=5)
    assert [r.id for r in searched] == [e.id for e in entities if e.action.startswith("test.")]
    with app.test_request_context("/admin/audit"):
        shown = render_template("admin/_audit_table.html", entries=rows)
        before = render_template("admin/_audit_table.html", entries=entities)
    assert shown == before
    assert "10.9.8.7" in shown and "because" in shown and "thing 7" in shown
    assert "denied" in shown
