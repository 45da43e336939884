"""The chain and route editors on the escalation policies page, through the Flask client:
managers create, change and delete chains and routes (audited, CSRF-protected), others get
403, and hostile or invalid input gets a 4xx with the reason, never a 500."""
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from portal.auth.models import AuditEntry
from portal.oncall import escalation
from tests.unit.test_security_inputs import hostile

VALID = {"name": "Orders storm", "description": "loud",
         "steps-0-kind": "notify_if_count", "steps-0-count": "3", "steps-0-minutes": "10",
         "steps-1-kind": "notify_schedule", "steps-1-important": "y",
         "steps-2-kind": "wait", "steps-2-minutes": "5",
         "steps-3-kind": "webhook", "steps-3-webhook_url": "https://hooks.example/x",
         "steps-4-kind": "repeat", "steps-4-count": "1"}


def actions(session):
    return [a for a in session.scalars(select(AuditEntry.action).order_by(AuditEntry.id))
            if a.startswith("oncall.")]


@pytest.mark.parametrize("role", ["developer", "oncall"])
def test_only_managers_change_chains_and_routes(client, login_as, session, role):
    login_as(role)
    assert client.get("/oncall/chains/new").status_code == 403
    assert client.post_form("/oncall/chains/new", VALID).status_code == 403
    assert client.post_form("/oncall/routes", {"matcher": '{a="b"}',
                                               "chain_id": "1"}).status_code == 403
    assert escalation.list_chains(session=session) == []


def test_a_developer_cannot_even_see_the_policies_page(client, login_as):
    login_as("developer")
    assert client.get("/oncall/policies").status_code == 403


def test_manager_creates_edits_routes_and_deletes_a_chain(client, login_as, session,
                                                          make_user):
    login_as("manager")
    assert client.post("/oncall/chains/new", data=VALID).status_code == 400  # no CSRF token
    assert client.post_form("/oncall/chains/new", VALID).status_code == 303
    chain = escalation.chain_named(session=session, name="Orders storm")
    assert [s.kind for s in chain.steps] == ["notify_if_count", "notify_schedule", "wait",
                                             "webhook", "repeat"]
    assert chain.steps[1].important
    page = client.get(f"/oncall/chains/{chain.id}").get_data(as_text=True)
    assert 'value="https://hooks.example/x"' in page
    person = make_user("oncall")
    edited = {"name": "Orders storm", "steps-0-kind": "notify_users",
              "steps-0-people": person.email, "steps-0-important": "y"}
    assert client.post_form(f"/oncall/chains/{chain.id}", edited).status_code == 303
    session.expire_all()
    assert [u.email for u in escalation.get_chain(session=session, chain_id=chain.id)
            .steps[0].users] == [person.email]
    assert client.post_form("/oncall/routes", {"matcher": '{service="orders"}',
                                               "chain_id": str(chain.id)}).status_code == 303
    listing = client.get("/oncall/policies").get_data(as_text=True)
    assert "Orders storm" in listing and "{service=&#34;orders&#34;}" in listing
    assert client.post_form(f"/oncall/chains/{chain.id}/delete").status_code == 303
    session.expire_all()
    assert escalation.list_chains(session=session) == []
    assert escalation.list_routes(session=session) == []
    assert actions(session) == ["oncall.chain_create", "oncall.chain_update",
                                "oncall.route_create", "oncall.chain_delete"]


BAD_CHAINS = [
    ({"steps-4-kind": "repeat", "steps-2-kind": ""}, "put a wait"),
    ({"steps-3-webhook_url": "file:///etc/passwd"}, "https://"),
    ({"steps-0-count": "0"}, "at least 2 alerts"),
    ({"steps-1-kind": "notify_users", "steps-1-people": "nobody@nowhere.example"},
     "no active staff account"),
    ({"steps-1-kind": "notify_group", "steps-1-team": "no-such-team"}, "no team"),
    ({"steps-0-kind": "explode"}, "unknown kind"),
    ({"steps-2-minutes": "999999"}, "Number must be between"),
    ({"name": ""}, "Give the chain a name"),
]
BAD_ROUTES = [
    {"matcher": '{service=~"("}', "chain_id": "CHAIN"},
    {"matcher": '{a=~".*"}', "chain_id": "CHAIN"},
    {"matcher": 'rate(x[5m])', "chain_id": "CHAIN"},
    {"matcher": '{service="x"}', "chain_id": "999999"},
    {"matcher": '{service="x"}', "chain_id": "abc"},
    {"matcher": "", "chain_id": "CHAIN"},
]


def test_bad_chains_and_routes_are_refused_with_a_4xx(client, login_as, session):
    login_as("manager")
    for change, message in BAD_CHAINS:
        response = client.post_form("/oncall/chains/new", {**VALID, **change})
        assert response.status_code == 422, change
        assert message in response.get_data(as_text=True), (change, message)
    assert escalation.list_chains(session=session) == []
    client.post_form("/oncall/chains/new", VALID)
    chain = escalation.chain_named(session=session, name="Orders storm")
    for form in BAD_ROUTES:
        data = {k: v.replace("CHAIN", str(chain.id)) for k, v in form.items()}
        assert client.post_form("/oncall/routes", data).status_code in (400, 404, 422), form
    assert escalation.list_routes(session=session) == []
    assert client.post_form("/oncall/routes/424242/delete").status_code == 404
    assert client.get("/oncall/chains/424242").status_code == 404


FIELDS = ["name", "description", *[f"steps-{n}-{name}" for n in ("0", "3", "19", "99999")
                                   for name in ("kind", "minutes", "count", "people", "team",
                                                "schedule", "webhook_url", "after_minutes",
                                                "target", "user_email", "important")]]


@settings(max_examples=12, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_hostile_chain_input_gives_a_4xx_never_a_500(client, login_as, data):
    if client.get("/oncall/chains/new").status_code != 200:
        login_as("manager")
    form = {**VALID, **{name: data.draw(hostile) for name in data.draw(
        st.lists(st.sampled_from(FIELDS), min_size=1, max_size=5, unique=True),
        label="fields")}}
    response = client.post_form("/oncall/chains/new", form)
    assert response.status_code in (303, 400, 413, 422), (form, response.status_code)
