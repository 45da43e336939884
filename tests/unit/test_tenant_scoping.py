"""Tenant scoping lives below the services: a scoped session cannot read other tenants."""
from sqlalchemy import select

from portal.tenants import service as tenants
from portal.tenants.models import Tenant


def test_scoped_session_sees_only_its_tenant(session, make_tenant):
    mine, other = make_tenant(), make_tenant()
    session.info["tenant_id"] = mine.id
    session.expunge_all()  # a fresh read, as in a new request
    assert [t.id for t in tenants.list_all(session=session)] == [mine.id]
    assert tenants.get_by_slug(session=session, slug=other.slug) is None
    # even a hand-written query, as a forgetful view might write, is filtered
    assert session.scalars(select(Tenant.slug).where(Tenant.id == other.id)).all() == []
    assert sum(tenants.count_by_plan(session=session).values()) == 1


def test_unscoped_session_sees_every_tenant(session, make_tenant):
    a, b = make_tenant(), make_tenant()
    ids = {t.id for t in tenants.list_all(session=session)}
    assert {a.id, b.id} <= ids


def test_tenant_viewer_requests_are_scoped(client, login_as, make_tenant):
    mine, other = make_tenant(), make_tenant()
    login_as("tenant_viewer", tenant=mine)
    assert client.get(f"/tenants/{mine.slug}").status_code == 200
    assert client.get(f"/tenants/{other.slug}").status_code == 404
    assert client.get(f"/tenants/{other.slug}", headers={"HX-Request": "true"}).status_code == 404
    home = client.get("/my-tenant")
    assert home.headers["Location"] == f"/tenants/{mine.slug}"
