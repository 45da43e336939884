"""Search everywhere over Meridian's demo data: what each role finds, what it never sees,
hostile queries, and a bounded number of statements per search."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.oncall.models import Schedule
from portal.selfservice.models import Environment
from tests.seeded_demo import connection, counting, seeded_connection  # noqa: F401


def _text(client, query: str, **extra) -> str:
    response = client.get("/search/", query_string={"q": query, **extra})
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def test_a_manager_finds_every_kind_grouped_in_order(client, session, login_as):
    login_as("manager")
    schedule = session.scalars(select(Schedule)).first()
    html = _text(client, "order")
    assert 'id="search-services"' in html and "/catalog/services/order" in html
    assert 'id="search-slos"' in html and "/slo/" in html
    assert html.index('id="search-services"') < html.index('id="search-slos"')
    assert schedule.name in _text(client, schedule.name[:6])
    runbooks = _text(client, "OrderServiceDown")
    assert 'id="search-runbooks"' in runbooks and "/catalog/runbooks/" in runbooks
    people = _text(client, "oncall@meridian")
    assert 'id="search-persons"' in people and "mailto:oncall@meridian.example" in people


def test_each_role_sees_only_what_it_may_open(client, session, login_as, make_user):
    login_as("developer")
    schedule = session.scalars(select(Schedule)).first()
    html = _text(client, schedule.name)
    assert f"/oncall/schedules/{schedule.slug}" not in html  # the on-call pages are not theirs
    other = make_user("developer")
    session.add(Environment(name="platform-hidden-env", template="dev-environment", tier="dev",
                            owner=other, status="active"))
    session.flush()
    assert "platform-hidden-env" not in _text(client, "platform-hidden")  # not their own


def test_a_developer_finds_their_own_environment(client, session, login_as):
    me = login_as("developer")
    session.add(Environment(name="platform-mine-1", template="dev-environment", tier="dev",
                            owner=me, status="active"))
    session.flush()
    html = _text(client, "platform-mine")
    assert "/selfservice/#env-platform-mine-1" in html


def test_tenant_viewers_and_strangers_cannot_search(client, login_as, make_tenant):
    assert client.get("/search/?q=order").status_code in (302, 401)
    login_as("tenant_viewer", tenant=make_tenant())
    assert client.get("/search/?q=order").status_code == 403


@pytest.mark.parametrize("query", ["%", "_", "\\", "%_%", "order%' OR 1=1 --"])
def test_like_wildcards_are_plain_characters(client, login_as, query):
    login_as("manager")
    html = _text(client, query)
    assert "/catalog/services/" not in html  # no service name contains these characters


@pytest.mark.parametrize("query, message", [("a\x00b", "NUL"), ("x" * 101, "at most 100")])
def test_hostile_queries_get_a_clear_400(client, login_as, query, message):
    login_as("manager")
    response = client.get("/search/", query_string={"q": query})
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)


def test_the_header_box_gets_a_short_listbox(client, login_as):
    login_as("oncall")
    response = client.get("/search/", query_string={"q": "order", "box": "1"},
                          headers={"HX-Request": "true"})
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith("<ul id=\"search-results\" role=\"listbox\"")
    assert 'role="option"' in html and "<html" not in html
    assert 'id="global-search"' in _text(client, "order")  # the page carries the box too


def test_a_search_costs_one_statement_per_kind(client, session, login_as):
    login_as("manager")
    _text(client, "order")
    with counting(session.connection()) as seen:
        _text(client, "order")
    # 7 kinds, plus the signed-in user and the session check of the request.
    assert len(seen) <= 10, seen
