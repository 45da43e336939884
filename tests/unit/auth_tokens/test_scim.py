"""SCIM provisioning through the test client: auth, filters, paging, groups to roles,
deprovisioning (sessions, tokens, on-call shifts) and hostile input."""
from datetime import date, time

import pytest
from sqlalchemy import event, select

from portal.auth.models import AuditEntry, User
from portal.auth.tokens_models import ApiToken
from portal.oncall.models import LayerMember, Schedule
from portal.oncall.roster_notice_models import RosterNotice
from tests.conftest import TEST_PASSWORD
from tests.unit.auth_tokens.conftest import bearer

USER = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"


@pytest.fixture
def scim(client, make_user, issue):
    """A client call with an admin's `scim` token: scim(method, path, json=...)."""
    _, secret = issue(make_user("admin"), ["scim"])

    def call(method, path, **kwargs):
        return client.open(f"/scim/v2{path}", method=method,
                           headers={**bearer(secret), **kwargs.pop("headers", {})}, **kwargs)
    return call


def new_user(scim, user_name, **extra):
    response = scim("POST", "/Users", json={"schemas": [USER], "userName": user_name,
                                             "displayName": user_name.split("@")[0], **extra})
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()


def test_scim_needs_a_scim_token(client, make_user, issue, session):
    anonymous = client.get("/scim/v2/Users")
    assert anonymous.status_code == 401 and anonymous.get_json()["schemas"] == [ERROR]
    assert anonymous.headers["WWW-Authenticate"].startswith("Bearer")
    # No CSRF token and no bearer: still the SCIM 401, not a CSRF page.
    assert client.post("/scim/v2/Users", json={"userName": "x"}).status_code == 401
    refused = client.get("/scim/v2/Users", headers=bearer("mpt_" + "z" * 43))
    assert refused.status_code == 401 and refused.get_json()["schemas"] == [ERROR]
    _, admin_without_scim = issue(make_user("admin"), ["admin"])
    assert client.get("/scim/v2/Users", headers=bearer(admin_without_scim)).status_code == 403
    owner = make_user("admin")
    _, secret = issue(owner, ["scim"])
    assert client.get("/scim/v2/Users", headers=bearer(secret)).status_code == 200
    owner.roles = ["manager"]  # an admin no more: the scim scope dies with the role
    session.commit()
    assert client.get("/scim/v2/Users", headers=bearer(secret)).status_code == 403


def test_create_filter_and_paginate_users(scim, session):
    ids = [new_user(scim, f"p{i}@corp.example")["id"] for i in range(3)]
    user = session.get(User, int(ids[0]))
    assert (user.email, user.roles, user.is_active) == ("p0@corp.example", [], True)
    found = scim("GET", '/Users?filter=userName eq "P1@corp.example"').get_json()
    assert found["totalResults"] == 1 and found["Resources"][0]["id"] == ids[1]
    page = scim("GET", "/Users?startIndex=2&count=1").get_json()
    assert (page["totalResults"], page["startIndex"], page["itemsPerPage"]) == (3, 2, 1)
    assert page["Resources"][0]["id"] == ids[1]
    both = scim("GET", '/Users?filter=userName sw "p" and not (userName eq "p2@corp.example")')
    assert both.get_json()["totalResults"] == 2
    assert scim("POST", "/Users", json={"schemas": [USER], "userName": "P0@corp.example"}) \
        .status_code == 409
    creates = session.scalars(select(AuditEntry).where(
        AuditEntry.action == "scim.user_create")).all()
    assert len(creates) == 3 and all("token_id" in e.details for e in creates)


@pytest.mark.parametrize("query, scim_type", [
    ("filter=userName eq", "invalidFilter"),
    ("filter=" + "userName pr or " * 200 + "userName pr", "invalidFilter"),
    ("startIndex=" + "9" * 40, "invalidValue"),
    ("count=\u0663", "invalidValue"),
])
def test_bad_list_parameters_get_400_with_the_scim_type(query, scim_type, scim):
    response = scim("GET", f"/Users?{query}")
    assert response.status_code == 400
    assert response.get_json()["scimType"] == scim_type


@pytest.mark.parametrize("body, status", [
    (b"not json", 400),
    (b'{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "a\\u0000b"}',
     400),
    (b'{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "' +
     b"x" * 300 + b'"}', 400),
    (b'[1, 2]', 400),
    (b'{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"]}', 400),
])
def test_hostile_bodies_get_400(body, status, scim):
    response = scim("POST", "/Users", data=body,
                    headers={"Content-Type": "application/scim+json"})
    assert response.status_code == status, response.get_data(as_text=True)
    assert scim("GET", "/Users/" + "9" * 30).status_code == 404


def test_groups_grant_roles_through_the_group_map(app, scim, session, make_tenant):
    tenant = make_tenant()
    app.config["OIDC_GROUP_MAP"] = (("sre", "oncall"), ("eng-leads", "manager"),
                                    ("acme", f"tenant:{tenant.slug}"))
    alice = new_user(scim, "alice@corp.example")["id"]
    sre = scim("POST", "/Groups", json={"schemas": [GROUP], "displayName": "sre",
                                         "members": [{"value": alice}]}).get_json()
    assert session.get(User, int(alice)).roles == ["oncall"]
    leads = scim("POST", "/Groups", json={"schemas": [GROUP], "displayName": "eng-leads"})
    scim("PATCH", f"/Groups/{leads.get_json()['id']}", json={"schemas": [PATCH], "Operations": [
        {"op": "add", "path": "members", "value": [{"value": alice}]}]})
    assert session.get(User, int(alice)).roles == ["oncall", "manager"]
    scim("PATCH", f"/Groups/{sre['id']}", json={"schemas": [PATCH], "Operations": [
        {"op": "remove", "path": f'members[value eq "{alice}"]'}]})
    assert session.get(User, int(alice)).roles == ["manager"]
    read = scim("GET", f"/Users/{alice}").get_json()
    assert [g["display"] for g in read["groups"]] == ["eng-leads"]
    bob = new_user(scim, "bob@acme.example")["id"]
    scim("POST", "/Groups", json={"schemas": [GROUP], "displayName": "acme",
                                  "members": [{"value": bob}]})
    bob_user = session.get(User, int(bob))
    assert (bob_user.roles, bob_user.tenant_id) == (["tenant_viewer"], tenant.id)
    found = scim("GET", '/Groups?filter=displayName eq "SRE"').get_json()
    assert found["totalResults"] == 1 and found["Resources"][0]["id"] == sre["id"]


def test_deactivating_ends_sessions_revokes_tokens_and_flags_shifts(
        app, client, scim, session, make_user, issue):
    app.config["OIDC_GROUP_MAP"] = (("sre", "oncall"),)
    carol_id = new_user(scim, "carol@corp.example")["id"]
    scim("POST", "/Groups", json={"schemas": [GROUP], "displayName": "sre",
                                  "members": [{"value": carol_id}]})
    carol = session.get(User, int(carol_id))
    manager = make_user("manager")
    schedule = Schedule(slug="sre-rota", name="SRE rota", timezone="UTC", handoff_weekday=0,
                        handoff_time=time(10, 0), rotation_start=date(2026, 1, 5))
    schedule.members.append(LayerMember(layer="primary", position=1, user=carol))
    session.add(schedule)
    token, secret = issue(carol, ["oncall"])
    version = carol.session_version
    response = scim("PATCH", f"/Users/{carol_id}", json={"schemas": [PATCH], "Operations": [
        {"op": "replace", "value": {"active": False}}]})
    assert response.status_code == 200 and response.get_json()["active"] is False
    session.refresh(carol)
    session.refresh(token)
    assert not carol.is_active and carol.session_version > version
    assert token.revoked_at is not None and token.revoked_by.startswith("scim:")
    assert client.get("/oncall/", headers=bearer(secret)).status_code == 401
    (notice,) = session.scalars(select(RosterNotice)).all()
    assert notice.schedule_id == schedule.id and notice.person_email == "carol@corp.example"
    assert notice.shifts and all(s["layer"] == "primary" for s in notice.shifts)
    assert manager.email in notice.payload["to"] and carol.email not in notice.payload["to"]
    (audit,) = session.scalars(select(AuditEntry).where(
        AuditEntry.action == "scim.user_patch")).all()
    assert audit.details["deprovisioned"] is True
    # The notice shows on the schedule page, and a manager marks it handled.
    client.post_form("/login", {"email": manager.email, "password": TEST_PASSWORD})
    page = client.get("/oncall/schedules/sre-rota").get_data(as_text=True)
    assert f"roster-notice-{notice.id}" in page and "carol@corp.example" in page
    assert client.post_form(f"/oncall/schedules/sre-rota/roster-notices/{notice.id}/resolve") \
        .status_code == 303
    assert f"roster-notice-{notice.id}" not in client.get(
        "/oncall/schedules/sre-rota").get_data(as_text=True)


def test_delete_deprovisions_and_answers_404_after(scim, session, issue):
    dave_id = new_user(scim, "dave@corp.example")["id"]
    dave = session.get(User, int(dave_id))
    dave.roles = ["developer"]
    issue(dave, ["developer"])
    assert scim("DELETE", f"/Users/{dave_id}").status_code == 204
    session.refresh(dave)
    assert not dave.is_active
    assert scim("GET", f"/Users/{dave_id}").status_code == 404
    assert scim("GET", '/Users?filter=userName eq "dave@corp.example"').get_json()[
        "totalResults"] == 0
    live = session.scalars(select(ApiToken).where(ApiToken.user_id == dave.id,
                                                  ApiToken.revoked_at.is_(None))).all()
    assert live == []
    again = new_user(scim, "dave@corp.example")  # the person comes back: same account
    assert again["id"] == dave_id


def _count_statements(connection, call) -> int:
    seen = []

    def count(conn, cursor, statement, *args):
        if not statement.startswith(("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO")):
            seen.append(statement)
    event.listen(connection, "before_cursor_execute", count)
    try:
        call()
    finally:
        event.remove(connection, "before_cursor_execute", count)
    return len(seen)


def test_listing_costs_the_same_statements_for_5_or_25_people(scim, connection):
    group = scim("POST", "/Groups", json={"schemas": [GROUP], "displayName": "all"}).get_json()
    counts = []
    for total in (5, 25):
        while True:
            listed = scim("GET", "/Users?count=1").get_json()["totalResults"]
            if listed >= total:
                break
            new = new_user(scim, f"q{listed}@corp.example")
            scim("PATCH", f"/Groups/{group['id']}", json={"schemas": [PATCH], "Operations": [
                {"op": "add", "path": "members", "value": [{"value": new["id"]}]}]})
        counts.append(_count_statements(connection, lambda: scim("GET", "/Users")))
    assert counts[0] == counts[1], counts
    assert 0 < counts[0] <= 12, counts
