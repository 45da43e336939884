"""Backstage catalog-info.yaml: round-trip, validation with clear messages."""
import pytest
import yaml

from portal.catalog import descriptors, entity_store
from portal.catalog import service as catalog

BASE = "https://portal.meridian.example"


def export(session, **kwargs):
    return entity_store.export_yaml(session=session, base_url=BASE, **kwargs)


def import_text(session, text):
    return entity_store.import_entities(session=session, text=text, base_url=BASE)


def snapshot(session):
    """Everything a descriptor carries, per entry, in comparable form."""
    out = {}
    for s in catalog.list_services(session=session):
        out[s.slug] = (s.name, s.kind, s.tier, s.team.slug, s.language, s.repository,
                       s.purpose, s.slo_summary, s.failure_modes, s.namespace, s.clusters,
                       s.dashboards, s.helm_chart, s.oncall_schedule, s.rpo, s.rto, s.backup,
                       s.redundancy, sorted((d.depends_on.slug, d.purpose, d.critical)
                                            for d in s.dependencies))
    return out


def test_export_then_import_restores_every_fact(seeded):
    original, exported = snapshot(seeded), export(seeded)
    order = catalog.get_service(session=seeded, slug="order")
    order.rpo, order.tier, order.failure_modes = "changed", 3, []
    catalog.set_dependencies(session=seeded, service=order, depends_on={"redis": "x"})
    seeded.flush()
    result = import_text(seeded, exported)
    assert result.created == [] and len(result.updated) == len(original)
    seeded.expire_all()
    assert snapshot(seeded) == original
    assert export(seeded) == exported


def test_exported_links_are_absolute_under_the_public_address(seeded):
    order = next(e for e in yaml.safe_load_all(export(seeded, slug="order")))
    links = order["metadata"]["links"]
    assert links and all(link["url"].startswith(BASE + "/d/") for link in links)
    assert {link["type"] for link in links} == {"dashboard"}
    assert order["spec"]["lifecycle"] == "production" and order["spec"]["owner"] == \
        "group:commerce"


def test_an_edit_in_the_portal_shows_in_the_export_of_an_imported_entity(seeded):
    import_text(seeded, """
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: pricing
  labels: {cost-center: c42}
  links: [{url: "https://pricing.example/admin", title: Admin, icon: settings}]
spec: {type: website, lifecycle: experimental, owner: commerce, system: storefront}
""")
    pricing = catalog.get_service(session=seeded, slug="pricing")
    pricing.tier, pricing.name = 1, "Pricing"
    pricing.dashboards = [{"title": "Prices", "path": "/d/prices"}]
    seeded.flush()
    entity = yaml.safe_load(export(seeded, slug="pricing"))
    assert entity["metadata"]["annotations"] == {"meridian.io/tier": "1"}
    assert entity["metadata"]["title"] == "Pricing"
    assert entity["metadata"]["labels"] == {"cost-center": "c42"}
    assert entity["metadata"]["links"] == [
        {"url": "https://pricing.example/admin", "title": "Admin", "icon": "settings"},
        {"url": BASE + "/d/prices", "title": "Prices", "icon": "dashboard",
         "type": "dashboard"}]
    assert entity["spec"] == {"type": "website", "lifecycle": "experimental",
                              "owner": "commerce", "system": "storefront"}


def test_import_creates_a_new_entry_and_its_dependencies(seeded):
    text = """
apiVersion: backstage.io/v1alpha1
kind: System
metadata: {name: meridian}
spec: {owner: group:platform}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: pricing
  title: Pricing Service
  description: Computes tenant prices.
  annotations: {meridian.io/tier: "2", meridian.io/rpo: "< 1 minute"}
spec:
  type: service
  lifecycle: production
  owner: group:default/commerce
  dependsOn: [resource:postgresql, component:order]
"""
    result = import_text(seeded, text)
    assert result.created == ["pricing"]
    pricing = catalog.get_service(session=seeded, slug="pricing")
    assert (pricing.name, pricing.team.slug, pricing.kind, pricing.rpo) == (
        "Pricing Service", "commerce", "service", "< 1 minute")
    assert sorted(d.depends_on.slug for d in pricing.dependencies) == ["order", "postgresql"]
    assert all(d.critical for d in pricing.dependencies)


@pytest.mark.parametrize("text, message", [
    ("a: [unclosed", "Not valid YAML"),
    ("", "no entity"),
    ("- just\n- a list", "Entity 1: an entity must be a mapping, not str"),
    ("apiVersion: v1\nkind: Component\nmetadata: {name: x}\n"
     "spec: {type: service, owner: t, lifecycle: production}",
     "Entity 1 (Component x): apiVersion: 'v1' is not one of"),
    ("apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {name: -bad}\n"
     "spec: {type: service, owner: platform, lifecycle: production}",
     "metadata.name: '-bad' must be 1-63 letters"),
    ("apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {name: x}\nspec: {}",
     "spec: 'type' is a required property"),
    ("apiVersion: backstage.io/v1alpha1\nkind: Template\nmetadata: {name: x}\nspec: {}",
     "kind: 'Template' is not supported"),
])
def test_invalid_descriptors_are_refused_with_a_reason(text, message):
    with pytest.raises(descriptors.DescriptorError) as raised:
        descriptors.parse(text)
    assert any(message in problem for problem in raised.value.problems), raised.value.problems


def component(name="pricing", owner="commerce", depends=(), annotations=None):
    return yaml.safe_dump({"apiVersion": "backstage.io/v1alpha1", "kind": "Component",
                           "metadata": {"name": name, "annotations": annotations or {}},
                           "spec": {"type": "service", "owner": owner,
                                    "lifecycle": "production", "dependsOn": list(depends)}})


@pytest.mark.parametrize("text, message", [
    (component(depends=["ghost"]), "spec.dependsOn.0: 'ghost' must name its kind"),
    (component(owner="user:a:b"), "spec.owner: 'user:a:b' has an invalid name"),
    (component(depends=["component:pricing"]), "cannot depend on itself"),
    (component(annotations={"meridian.io/tier": "7"}), "meridian.io/tier must be 1, 2 or 3"),
    (component(annotations={"meridian.io/failure-modes": "{}"}), "JSON list of strings"),
    (component(annotations={"meridian.io/dependencies": "[1]"}), "JSON object of objects"),
])
def test_references_are_checked_against_the_catalog_and_nothing_is_written(seeded, text,
                                                                            message):
    with pytest.raises(descriptors.DescriptorError) as raised:
        import_text(seeded, text)
    assert any(message in problem for problem in raised.value.problems), raised.value.problems
    assert catalog.get_service(session=seeded, slug="pricing") is None
