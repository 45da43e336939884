"""The service page's one statement reads what the catalog's separate readers would."""
from sqlalchemy import select

from portal.catalog import (
    entity_store,
    graph_cache,
    readiness,
    runbooks,
    service_page,
    team_members,
)
from portal.catalog.models import CatalogRunbook, Service
from portal.catalog.vulnerabilities import reports_for


def _links(found):
    return [(r.slug, r.title, list(r.alertnames or [])) for r in found]


def test_the_detail_of_every_entry_matches_the_separate_readers(seeded):
    order = seeded.scalar(select(Service).where(Service.slug == "order"))
    seeded.add(CatalogRunbook(slug="order-extra", title="Another", body="", service_id=order.id,
                              alertnames=["SomethingElse"]))
    seeded.flush()
    rules = readiness.alert_rules()
    for service in seeded.scalars(select(Service)):
        detail = service_page.service_detail(session=seeded, slug=service.slug)
        assert detail is not None and detail.service is service
        assert detail.graph_version == graph_cache.version(session=seeded)
        assert detail.team_people == team_members.members(session=seeded, team=service.team)
        assert detail.has_relations == bool(
            entity_store.relations_of_service(session=seeded, service=service))
        assert detail.vulnerability_reports == len(reports_for(session=seeded,
                                                               service_id=service.id))
        names = [rule["alert"] for rule in rules.get(service.slug, [])]
        own, answers = runbooks.resolve(session=seeded, service=service, alertnames=names)
        assert _links(detail.runbooks.own) == _links(own)
        assert {n: r and r.slug for n, r in detail.runbooks.answers.items()} == \
            {n: r and r.slug for n, r in answers.items()}
    assert service_page.service_detail(session=seeded, slug="no-such-entry") is None


def test_the_scorecard_is_the_same_with_the_runbooks_the_page_read(seeded):
    for slug in ("order", "postgresql", "api-gateway", "vault"):
        detail = service_page.service_detail(session=seeded, slug=slug)
        card = readiness.evaluate(session=seeded, service=detail.service,
                                  resolved=detail.runbooks)
        alone = readiness.evaluate(session=seeded, service=detail.service)
        assert [(r.check.id, r.status, r.detail) for r in card.results] == \
            [(r.check.id, r.status, r.detail) for r in alone.results]
        assert [(a["alert"], rb) for a, rb, _ in card.alerts] == \
            [(a["alert"], rb) for a, rb, _ in alone.alerts]
