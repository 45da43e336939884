"""The on-call board's page lists, read in one statement of plain columns, show exactly
what the Page objects of paging.open_pages showed: the same pages, in the same order, with
the same assignee, state and links, for a viewer with and without the on-call role."""
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from portal.db import utcnow
from portal.extensions import db
from portal.oncall import oncall_views
from portal.oncall.models import Page
from tests.conftest import TEST_PASSWORD


def _orm_open_pages(session, user=None, limit=oncall_views.OPEN_PAGES_SHOWN):
    """Unresolved Page objects, newest first (only the user's when given): what the lists
    showed before they were read as plain columns."""
    stmt = select(Page).where(Page.status != "resolved").order_by(Page.id.desc()).limit(limit)
    if user is not None:
        stmt = stmt.where(Page.assignee_id == user.id)
    return list(session.scalars(stmt).unique())


def _by_orm(viewer_id: int, others: bool):
    from flask_login import current_user
    return (_orm_open_pages(db.session, current_user),
            _orm_open_pages(db.session) if others else [])


def _lists(html: str) -> str:
    """The page lists of the board, with the CSRF token (new per session) left out."""
    start, end = html.index('<section id="my-pages">'), html.index('id="on-call-now"')
    others = re.search(r'<section id="open-pages">.*?</section>', html, re.S)
    shown = html[start:end] + (others.group(0) if others else "")
    return re.sub(r'name="csrf_token" value="[^"]+"', 'name="csrf_token"', shown)


@pytest.fixture
def sign_in(client):
    def login(user):
        response = client.post_form("/login", {"email": user.email, "password": TEST_PASSWORD})
        assert response.status_code == 303
    return login


@pytest.fixture
def pages(session, make_user):
    """Open and resolved pages of the viewer, of someone else and of nobody: more open ones
    than either list shows, so both limits apply."""
    viewer, other = make_user("oncall"), make_user("oncall")
    due = utcnow() - timedelta(minutes=5)
    rows = []
    for i in range(oncall_views.OPEN_PAGES_SHOWN + 2):
        rows.append(Page(severity="sev1" if i % 3 == 0 else "sev2", title=f"Mine {i}",
                         assignee_id=viewer.id, due_at=due, incident_id=i if i % 2 else None,
                         status="acknowledged" if i % 4 == 0 else "triggered"))
    rows.append(Page(severity="sev3", title="Mine resolved", assignee_id=viewer.id,
                     due_at=due, status="resolved"))
    for i in range(3):
        rows.append(Page(severity="sev2", title=f"Theirs {i}", assignee_id=other.id,
                         due_at=due))
    for i in range(oncall_views.OPEN_PAGES_SHOWN):
        rows.append(Page(severity="sev3", title=f"Nobody's {i}", due_at=due))
        rows.append(Page(severity="sev3", title=f"Mine {i} again", assignee_id=viewer.id,
                         due_at=due))
    session.add_all(rows)
    session.commit()
    return viewer, other


@pytest.mark.parametrize("viewer_kind", ["oncall", "manager", "rostered developer"])
def test_board_lists_the_same_pages_as_the_page_objects(client, sign_in, session, pages,
                                                        make_user, make_schedule, monkeypatch,
                                                        viewer_kind):
    viewer, other = pages
    if viewer_kind != "oncall":
        viewer = make_user(viewer_kind.split()[-1])
        if viewer_kind == "rostered developer":  # no on-call role: only their own pages
            make_schedule([viewer], [], slug="board-rota",
                          start=date.today() - timedelta(days=30))
        session.add(Page(severity="sev1", title="The viewer's", assignee_id=viewer.id,
                         due_at=utcnow()))
        session.commit()
    sign_in(viewer)
    shown = client.get("/oncall/").get_data(as_text=True)
    monkeypatch.setattr(oncall_views, "_open_pages", _by_orm)
    expected = client.get("/oncall/").get_data(as_text=True)
    assert _lists(shown) == _lists(expected)
    mine = re.findall(r'<tr id="page-(\d+)"', _lists(shown).split('id="open-pages"')[0])
    assert len(mine) == min(oncall_views.OPEN_PAGES_SHOWN,
                            len(_orm_open_pages(session, viewer, limit=500)))
    assert "Mine resolved" not in shown
    assert (other.name in shown) == (viewer_kind != "rostered developer")
    assert ('id="open-pages"' in shown) == (viewer_kind != "rostered developer")
