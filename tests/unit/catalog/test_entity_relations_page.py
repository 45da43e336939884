"""What an import says and refuses beyond validation (case-blind names, entity-only notes), and
the service page's Backstage relations, read with a bounded number of SQL statements."""
import re

import pytest
from sqlalchemy import event as sa_event
from sqlalchemy import select

from portal.catalog import entity_store
from portal.catalog.models import CatalogEntity

BASE = "https://portal.meridian.example"
HEAD = "apiVersion: backstage.io/v1alpha1\n"


def component(name, extra="", owner="team-a", namespace=None):
    meta = f"{{name: {name}" + (f", namespace: {namespace}" if namespace else "") + "}"
    return (f"{HEAD}kind: Component\nmetadata: {meta}\n"
            f"spec:\n  type: service\n  lifecycle: production\n  owner: {owner}\n{extra}")


def resource(name, owner="team-a"):
    return f"{HEAD}kind: Resource\nmetadata: {{name: {name}}}\nspec: {{type: database, " \
           f"owner: {owner}}}\n"


def run_import(session, *documents):
    return entity_store.import_entities(session=session, text="---\n".join(documents),
                                        base_url=BASE)


def test_names_differing_only_in_case_are_one_entity_to_backstage(seeded):
    with pytest.raises(entity_store.DescriptorError) as raised:
        run_import(seeded, component("Rel-foo", owner="user:guest"),
                   component("rel-foo", owner="user:guest"))
    assert raised.value.problems == [
        "Entity 2 (Component rel-foo): component:default/rel-foo has the same name, ignoring "
        "case (as Backstage compares names), as component:default/Rel-foo, entity 1 of this "
        "file."]
    run_import(seeded, component("Rel-foo", owner="user:guest"))
    with pytest.raises(entity_store.DescriptorError) as raised:
        run_import(seeded, component("rel-FOO", owner="user:guest"))
    assert "component:default/rel-FOO: the catalog already has component:default/Rel-foo" in \
        raised.value.problems[0]
    # Also against what a catalog entry exports as, imported or not.
    with pytest.raises(entity_store.DescriptorError) as raised:
        run_import(seeded, component("Order", owner="user:guest"))
    assert "the catalog already has component:default/order" in raised.value.problems[0]


def test_the_import_page_answers_a_case_clash_with_422_naming_both(seeded, client, login_as):
    login_as("developer")
    response = client.post_form("/catalog/import", {
        "text": "---\n".join([component("Rel-foo"), component("rel-foo")])})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "component:default/rel-foo has the same name" in page
    assert "component:default/Rel-foo, entity 1" in page


def test_entities_kept_only_as_entities_get_a_note_saying_why(seeded):
    group = f"{HEAD}kind: Group\nmetadata: {{name: infra, namespace: ops}}\n" \
            "spec: {type: team, children: []}\n"
    upper = f"{HEAD}kind: Group\nmetadata: {{name: Rel_Team}}\nspec: {{type: team, children: []}}\n"
    system = f"{HEAD}kind: System\nmetadata: {{name: rel-sys, namespace: ops}}\n" \
             "spec: {owner: team-a}\n"
    plain = f"{HEAD}kind: System\nmetadata: {{name: rel-sys}}\nspec: {{owner: team-a}}\n"
    notes = run_import(seeded, group, upper, system, plain).notes
    assert "group:ops/infra is kept as a Backstage entity only: it is not a team because " \
        "namespace 'ops' is not the catalog's ('default')." in notes
    assert any(n.startswith("group:default/Rel_Team is kept as a Backstage entity only: it "
                            "is not a team because its name") for n in notes)
    assert any(n.startswith("system:ops/rel-sys is kept as a Backstage entity only") and
               "namespace 'ops'" in n for n in notes)
    assert not any("system:default/rel-sys" in n for n in notes)


def test_a_component_and_a_resource_of_one_name_make_one_entry(seeded, client, login_as):
    login_as("developer")
    response = client.post_form("/catalog/import", {
        "text": "---\n".join([component("rel-twin"), resource("rel-twin")])})
    assert response.status_code == 303
    page = client.get("/catalog/").get_data(as_text=True)
    assert "resource:default/rel-twin is kept as a Backstage entity only, not a catalog " \
        "entry: the entry &#39;rel-twin&#39; comes from component:default/rel-twin, earlier " \
        "in this file, and an entry has one entity." in page
    rows = seeded.scalars(select(CatalogEntity).where(CatalogEntity.name == "rel-twin")).all()
    assert sorted((r.kind, r.service is not None) for r in rows) == [
        ("component", True), ("resource", False)]


RELATED = f"""\
{HEAD}kind: Domain
metadata: {{name: rel-domain}}
spec: {{owner: team-a}}
---
{HEAD}kind: System
metadata: {{name: rel-system}}
spec: {{owner: team-a, domain: rel-domain}}
---
{HEAD}kind: API
metadata: {{name: rel-api}}
spec: {{type: openapi, lifecycle: production, owner: team-a, definition: x}}
"""


def relations_page(client, slug="rel-svc"):
    html = client.get(f"/catalog/services/{slug}").get_data(as_text=True)
    assert 'id="entity-relations"' in html, "no relations section"
    section = html.split('id="entity-relations"')[1].split("</section>")[0]
    return [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", item)).strip()
            for item in section.split("</ul>")[0].split("<li>")[1:]], section


def test_the_service_page_shows_the_entitys_relations(seeded, client, login_as):
    run_import(seeded, RELATED, component("rel-svc", (
        "  system: rel-system\n  subcomponentOf: rel-parent\n  providesApis: [rel-api]\n"
        "  consumesApis: [rel-missing-api]\n  dependsOn: [resource:postgresql]\n"
        "  dependencyOf: [component:rel-web]\n")))
    login_as("developer")
    items, section = relations_page(client)
    assert items == [
        "owner group:default/team-a",
        "system system:default/rel-system",
        "subcomponent of component:default/rel-parent not imported yet",
        "provides API api:default/rel-api",
        "consumes API api:default/rel-missing-api not imported yet",
        "depends on resource:default/postgresql · catalog entry",
        "dependency of component:default/rel-web not imported yet",
        "domain (through system rel-system) domain:default/rel-domain"]
    assert '<a href="/catalog/entities#entity-system-default-rel-system">' in section
    assert '<a href="/catalog/entities#entity-api-default-rel-api">' in section
    assert '<a href="/catalog/entities#entity-domain-default-rel-domain">' in section
    assert '<a href="/catalog/services/postgresql">catalog entry</a>' in section
    assert "entity-component-default-rel-web" not in section  # nothing to link to yet
    # A reference spelled in another case names the same entity, as in Backstage.
    run_import(seeded, component("rel-svc", "  system: REL-System\n"))
    items, _ = relations_page(client)
    assert items[1] == "system system:default/REL-System"


def test_a_catalog_entry_without_an_imported_entity_has_no_relations_section(seeded, client,
                                                                              login_as):
    login_as("developer")
    html = client.get("/catalog/services/order").get_data(as_text=True)
    assert "Depends on (upstream)" in html and 'id="entity-relations"' not in html


def test_more_relations_cost_no_more_sql_statements(seeded, client, login_as, connection):
    login_as("developer")
    run_import(seeded, RELATED, component("rel-svc", "  system: rel-system\n"))
    counted = []
    for _ in range(2):
        seen = []
        # Warm: the dependency graph is built once per catalog version, then reused.
        assert client.get("/catalog/services/rel-svc").status_code == 200
        listener = lambda *args, seen=seen: seen.append(args[2])  # noqa: E731
        sa_event.listen(connection, "before_cursor_execute", listener)
        try:
            assert client.get("/catalog/services/rel-svc").status_code == 200
        finally:
            sa_event.remove(connection, "before_cursor_execute", listener)
        counted.append(len(seen))
        many = "".join(f"  - api:rel-api-{i}\n" for i in range(15))
        run_import(seeded, RELATED, component("rel-svc", (
            "  system: rel-system\n  subcomponentOf: rel-parent\n  providesApis: [rel-api]\n"
            f"  consumesApis:\n{many}  dependencyOf: [component:rel-web, resource:rel-x]\n")))
    assert len(relations_page(client)[0]) == 22
    assert counted[0] == counted[1], counted
