"""The service page's incidents panel reads its open incidents and the team's overdue
postmortem count in one statement, and shows what the full reads showed."""
from __future__ import annotations

from datetime import timedelta

from portal.db import utcnow
from portal.incidents import postmortems, service
from portal.incidents.models import Postmortem
from portal.incidents.panel_views import incidents_service_panel
from tests.seeded_demo import counting


def _overdue(session, incident, *, hours: int) -> Postmortem:
    postmortem = Postmortem(incident_id=incident.id, required=True,
                            due_at=utcnow() - timedelta(hours=hours))
    session.add(postmortem)
    session.commit()
    return postmortem


def _expected(session, svc) -> tuple[list, int]:
    full = service.open_for_service(session=session, service_id=svc.id, bare=True)
    return ([(i.id, i.title, i.severity, i.status) for i in full],
            len(postmortems.overdue(session=session, team_slug=svc.team.slug)))


def _panel(app, session, svc) -> tuple[list, int, int]:
    assert svc.team.slug  # loaded before counting
    with app.test_request_context("/"), counting(session.connection()) as seen:
        p = incidents_service_panel(svc)
        return ([(i.id, i.title, i.severity, i.status) for i in p["open"]],
                p["overdue_count"], len(seen))


def test_one_statement_with_the_rows_and_count_of_the_full_reads(app, session, svc,
                                                                 make_incident):
    empty = _panel(app, session, svc)
    assert empty == ([], 0, 1)

    first = make_incident("sev1", title="Checkout down")
    second = make_incident("sev3", title="Slow search")
    resolved = make_incident("sev2", title="Was broken")
    resolved.status = "resolved"
    session.commit()
    written = _overdue(session, first, hours=2)
    _overdue(session, resolved, hours=30)
    rows, overdue, statements = _panel(app, session, svc)
    assert statements == 1
    assert (rows, overdue) == _expected(session, svc)
    assert {r[0] for r in rows} == {first.id, second.id} and overdue == 2

    # A postmortem written up is no longer overdue.
    written.completed_at = utcnow()
    session.commit()
    assert _panel(app, session, svc)[1] == 1 == _expected(session, svc)[1]


def test_panel_html_shows_the_open_incidents_and_overdue_count(client, login_as, session, svc,
                                                               make_incident):
    login_as("developer")
    incident = make_incident("sev2", title="Orders failing badly")
    _overdue(session, incident, hours=1)
    body = client.get(f"/catalog/services/{svc.slug}").get_data(as_text=True)
    panel = body[body.index('<section id="incidents-panel">'):]
    panel = panel[:panel.index("</section>")]
    assert f'#{incident.id} Orders failing badly</a>' in panel
    assert 'data-severity="sev2"' in panel and 'data-status="triggered"' in panel
    assert ">1 overdue postmortem</span> for Commerce T" in panel
    other = make_incident("sev3", title="Second one")
    _overdue(session, other, hours=1)
    body = client.get(f"/catalog/services/{svc.slug}").get_data(as_text=True)
    assert ">2 overdue postmortems</span>" in body and "Second one" in body
