"""Backstage's own examples import, round-trip, and every export passes the real
@backstage/catalog-model validators (run through tests/node/backstage/validate.js)."""
import io
import json
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select

from portal.catalog import entity_store
from portal.catalog import service as catalog
from portal.catalog.models import CatalogEntity, Team

ROOT = Path(__file__).resolve().parents[3]
DATA = ROOT / "tests" / "data" / "backstage"
NODE_PROJECT = ROOT / "tests" / "node" / "backstage"
BASE = "https://portal.meridian.example"
EXAMPLES = ("descriptor-format.yaml", "acme-org.yaml", "entities.json")


@pytest.fixture(scope="session")
def backstage_validator():
    """Validate YAML text with @backstage/catalog-model; returns its JSON report."""
    if not (NODE_PROJECT / "node_modules" / "@backstage" / "catalog-model").is_dir():
        subprocess.run([shutil.which("npm") or "npm", "ci", "--no-audit", "--no-fund"],
                       cwd=NODE_PROJECT, check=True, capture_output=True, timeout=300)

    def validate(text: str) -> dict:
        done = subprocess.run(["node", str(NODE_PROJECT / "validate.js"), "-"], input=text,
                              capture_output=True, text=True, timeout=120)
        assert done.returncode in (0, 1), done.stderr
        return json.loads(done.stdout)
    return validate


def import_file(session, name):
    return entity_store.import_entities(session=session, text=(DATA / name).read_text(),
                                        base_url=BASE)


def export(session, **kwargs):
    return entity_store.export_yaml(session=session, base_url=BASE, **kwargs)


def example_entities():
    """Every example entity as parsed (anchors expanded), keyed by reference."""
    out = {}
    for name in EXAMPLES:
        text = (DATA / name).read_text()
        docs = json.loads(text) if name.endswith(".json") else list(yaml.safe_load_all(text))
        for entity in docs:
            ref = (entity["kind"].lower(), entity["metadata"].get("namespace", "default"),
                   entity["metadata"]["name"])
            out[ref] = entity
    return out


def by_ref(text):
    return {(e["kind"].lower(), e["metadata"].get("namespace", "default"),
             e["metadata"]["name"]): e for e in yaml.safe_load_all(text)}


def test_the_examples_themselves_pass_backstages_validator(backstage_validator):
    for name in EXAMPLES:
        report = backstage_validator((DATA / name).read_text())
        assert report["errors"] == [] and report["entities"] > 1, (name, report)


def test_the_validator_catches_what_backstage_refuses(backstage_validator):
    report = backstage_validator(
        "apiVersion: backstage.io/v1alpha1\nkind: Component\n"
        "metadata: {name: x, links: [{url: /d/x}]}\n"
        "spec: {type: service, owner: t, lifecycle: production}\n---\n"
        "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {name: y}\n"
        "spec: {type: service, owner: t}\n")
    assert report["entities"] == 2
    assert [e["ref"] for e in report["errors"]] == ["Component:default/x",
                                                     "Component:default/y"]
    assert "links.0.url" in report["errors"][0]["message"]
    assert "lifecycle" in report["errors"][1]["message"]


def test_the_demo_catalog_export_passes_backstages_validator(seeded, backstage_validator):
    text = export(seeded)
    report = backstage_validator(text)
    assert report["errors"] == [], report["errors"][:5]
    assert report["entities"] == len(catalog.list_services(session=seeded)) + \
        len(catalog.list_teams(session=seeded))
    for slug in ("order", "postgresql"):
        assert backstage_validator(export(seeded, slug=slug))["errors"] == []


def test_examples_import_and_round_trip_unchanged(seeded, backstage_validator):
    results = [import_file(seeded, name) for name in EXAMPLES]
    assert sum(len(r.entities) for r in results) == len(example_entities())
    exported = export(seeded)
    report = backstage_validator(exported)
    assert report["errors"] == [], report["errors"][:5]
    back = by_ref(exported)
    for ref, entity in example_entities().items():
        assert back[ref] == entity, ref
    # A second round trip through the exported file changes nothing either.
    entity_store.import_entities(session=seeded, text=exported, base_url=BASE)
    assert export(seeded) == exported


def test_examples_map_to_catalog_entries_teams_and_relations(seeded):
    first = import_file(seeded, "acme-org.yaml")
    assert sorted(first.created) == ["artist-lookup", "playback-lib", "playback-order"]
    assert any("petstore" in n and "namespace 'external-systems'" in n for n in first.notes)
    assert any("guest-sandbox" in n and "'user:guest'" in n for n in first.notes)
    assert "artist-lookup depends on artists-db, not in the catalog yet: kept as references " \
        "until they are imported." in first.notes
    lookup = catalog.get_service(session=seeded, slug="artist-lookup")
    assert (lookup.team.slug, lookup.team.name) == ("team-a", "Team A")
    assert lookup.dependencies == []  # artists-db is not imported yet: kept as a reference
    assert [d.depends_on.slug for d in
            catalog.get_service(session=seeded, slug="playback-order").dependencies] == \
        ["artist-lookup"]
    assert catalog.get_service(session=seeded, slug="playback-lib").team.slug == "team-b"
    row = seeded.scalar(select(CatalogEntity).where(CatalogEntity.name == "artist-lookup"))
    assert [(r.type, r.target_ref) for r in row.relations] == [
        ("ownedBy", "group:default/team-a"), ("partOf", "system:default/audio-playback"),
        ("providesApi", "api:default/spotify"), ("consumesApi", "api:default/wayback-search"),
        ("dependsOn", "resource:default/artists-db")]

    second = import_file(seeded, "descriptor-format.yaml")
    assert sorted(second.created) == ["artist-web", "artists-db"]
    placeholder = seeded.scalar(select(Team).where(Team.slug == "artist-relations-team"))
    assert placeholder.name == "artist-relations-team"
    assert any("artist-relations-team" in n and "was created" in n for n in second.notes)
    seeded.expire_all()
    lookup = catalog.get_service(session=seeded, slug="artist-lookup")
    assert [d.depends_on.slug for d in lookup.dependencies] == ["artists-db"]
    assert catalog.get_service(session=seeded, slug="artists-db").kind == "datastore"

    named = """
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: artist-relations-team, title: Artist Relations}
spec: {type: team, children: []}
"""
    entity_store.import_entities(session=seeded, text=named, base_url=BASE)
    assert seeded.scalar(select(Team).where(Team.slug == "artist-relations-team")).name == \
        "Artist Relations"


def test_an_import_that_names_an_existing_entry_but_cannot_own_it_is_refused(seeded):
    text = """
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: order}
spec: {type: service, lifecycle: production, owner: user:guest}
"""
    with pytest.raises(entity_store.DescriptorError) as raised:
        entity_store.import_entities(session=seeded, text=text, base_url=BASE)
    assert "component:default/order: the catalog entry 'order' has this name" in \
        raised.value.problems[0]


def deep(levels):
    return "a: " + "[" * levels + "]" * levels


ALIAS_BOMB = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, "
    f"*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, "
    f"*{chr(97 + i)}, *{chr(97 + i)}]\n" for i in range(8))
COMPONENT = ("apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {name: x}\n"
             "spec: {type: service, lifecycle: production, owner: team-a%s}\n")


@pytest.mark.parametrize("text, message", [
    (deep(5000), "nested deeper than 64 levels"),
    ("[" * 5000 + "]" * 5000, "nested deeper than 64 levels"),
    (ALIAS_BOMB, "too large once its aliases are expanded"),
    (COMPONENT % "" + "\x00", "NUL byte"),
    (COMPONENT % ", x: \"a\\0b\"", "spec.x: contains a NUL character"),
    (COMPONENT % ", x: " + "9" * 5000, "Not valid YAML"),
    (COMPONENT % ", x: 2024-01-01", "spec.x: date values are not entity data"),
    (COMPONENT % ", x: .inf", "spec.x: must be a finite number"),
    ('[{"apiVersion": "backstage.io/v1alpha1", "kind": "Component", "x": 1e999}]',
     "Entity 1: entity.x: must be a finite number"),
    ('{"items": [' + '{"kind": "User"},' * 501 + '{}]}', "At most 500 entities per file"),
    ("x" * 1_000_001, "larger than 1,000,000 characters"),
    ("apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {name: x}\nspec: {}\n"
     "---\napiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {name: x}\n"
     "spec: {type: s, lifecycle: p, owner: o}\n", "Entity 1 (Component x): spec: 'type'"),
])
def test_hostile_input_is_refused_with_a_message(seeded, text, message):
    with pytest.raises(entity_store.DescriptorError) as raised:
        entity_store.import_entities(session=seeded, text=text, base_url=BASE)
    assert any(message in p for p in raised.value.problems), raised.value.problems


@pytest.mark.parametrize("name", EXAMPLES)
def test_the_import_page_takes_the_examples(seeded, client, login_as, name):
    login_as("developer")
    response = client.post_form("/catalog/import", {
        "descriptor": (io.BytesIO((DATA / name).read_bytes()), name)},
        content_type="multipart/form-data")
    assert response.status_code == 303
    page = client.get("/catalog/").get_data(as_text=True)
    assert "Imported" in page and "entities" in page


@pytest.mark.parametrize("text, message", [
    (deep(100_000), "nested deeper than 64 levels"),
    (ALIAS_BOMB, "too large once its aliases are expanded"),
    (COMPONENT % ", dependsOn: [db]", "spec.dependsOn.0: &#39;db&#39; must name its kind"),
])
def test_the_import_page_answers_hostile_input_with_422(seeded, client, login_as, text,
                                                        message):
    login_as("developer")
    response = client.post_form("/catalog/import", {
        "descriptor": (io.BytesIO(text.encode()), "catalog-info.yaml")},
        content_type="multipart/form-data")
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)


def test_exported_file_downloads_with_absolute_links(seeded, client, login_as, app):
    login_as("developer")
    app.config["PUBLIC_BASE_URL"] = BASE
    text = client.get("/catalog/catalog-info.yaml").get_data(as_text=True)
    links = [link["url"] for e in yaml.safe_load_all(text)
             for link in e["metadata"].get("links", [])]
    assert links and all(url.startswith(BASE + "/") for url in links)


def test_the_entities_page_shows_relations_and_what_is_not_imported_yet(seeded, client,
                                                                        login_as):
    import_file(seeded, "acme-org.yaml")
    login_as("developer")
    page = client.get("/catalog/entities")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    row = html.split('id="entity-component-default-artist-lookup"')[1].split("</tr>")[0]
    assert "catalog entry" in row and "experimental" in row
    assert "ownedBy <code>group:default/team-a</code></li>" in row
    assert "dependsOn <code>resource:default/artists-db</code> <span class=\"badge warn\">" \
        "not imported yet" in row
    guest = html.split('id="entity-component-default-guest-sandbox"')[1].split("</tr>")[0]
    assert "entity only" in guest and "ownedBy <code>user:default/guest</code></li>" in guest


def test_the_json_export_passes_backstages_validator_and_imports_back_unchanged(
        seeded, client, login_as, app, backstage_validator):
    for name in EXAMPLES:
        import_file(seeded, name)
    login_as("developer")
    app.config["PUBLIC_BASE_URL"] = BASE
    response = client.get("/catalog/catalog-info.yaml?format=json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert "filename=catalog-info.json" in response.headers["Content-Disposition"]
    text = response.get_data(as_text=True)
    exported = json.loads(text)
    report = backstage_validator(text)
    assert report["errors"] == [] and report["entities"] == len(exported), report["errors"][:5]
    assert exported == list(yaml.safe_load_all(export(seeded)))
    entity_store.import_entities(session=seeded, text=text, base_url=BASE)
    assert json.loads(client.get("/catalog/catalog-info.yaml?format=json").get_data(
        as_text=True)) == exported
    one = client.get("/catalog/services/order/catalog-info.yaml?format=json")
    assert one.mimetype == "application/json"
    assert [e["metadata"]["name"] for e in one.get_json()] == ["order"]
    assert backstage_validator(one.get_data(as_text=True))["errors"] == []
    assert client.get("/catalog/catalog-info.yaml?format=xml").status_code == 400


MERGE_KEYS = """\
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: merged}
spec:
  <<: {type: service, lifecycle: production}
  owner: team-a
"""


def test_merge_keys_are_refused_because_backstage_does_not_merge_them(seeded,
                                                                      backstage_validator):
    # Backstage reads catalog files as YAML 1.2: `<<` is an ordinary key, nothing is merged.
    report = backstage_validator(MERGE_KEYS)
    assert "must have required property 'type'" in report["errors"][0]["message"]
    with pytest.raises(entity_store.DescriptorError) as raised:
        entity_store.import_entities(session=seeded, text=MERGE_KEYS, base_url=BASE)
    assert raised.value.problems[0].startswith("Line 5: YAML merge keys (<<) are not supported")
    # A quoted "<<" is an ordinary key in both readers, and plain aliases stay allowed.
    quoted = MERGE_KEYS.replace("<<:", "'<<':").replace("{type", "{x")
    with pytest.raises(entity_store.DescriptorError) as raised:
        entity_store.import_entities(session=seeded, text=quoted, base_url=BASE)
    assert "merge keys" not in raised.value.problems[0]
