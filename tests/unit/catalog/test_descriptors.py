"""Backstage catalog-info.yaml: round-trip, validation with clear messages."""
import pytest
import yaml

from portal.catalog import descriptors
from portal.catalog import service as catalog


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
    original, exported = snapshot(seeded), catalog.export_descriptors(session=seeded)
    order = catalog.get_service(session=seeded, slug="order")
    order.rpo, order.tier, order.failure_modes = "changed", 3, []
    catalog.set_dependencies(session=seeded, service=order, depends_on={"redis": "x"})
    seeded.flush()
    result = catalog.import_descriptors(session=seeded, text=exported)
    assert result.created == [] and len(result.updated) == len(original)
    seeded.expire_all()
    assert snapshot(seeded) == original
    assert catalog.export_descriptors(session=seeded) == exported


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
  owner: group:default/commerce
  dependsOn: [resource:postgresql, component:order]
"""
    result = catalog.import_descriptors(session=seeded, text=text)
    assert result.created == ["pricing"]
    pricing = catalog.get_service(session=seeded, slug="pricing")
    assert (pricing.name, pricing.team.slug, pricing.kind, pricing.rpo) == (
        "Pricing Service", "commerce", "service", "< 1 minute")
    assert sorted(d.depends_on.slug for d in pricing.dependencies) == ["order", "postgresql"]
    assert all(d.critical for d in pricing.dependencies)


@pytest.mark.parametrize("text, message", [
    ("a: [unclosed", "Not valid YAML"),
    ("", "no YAML document"),
    ("base: &a {x: 1}\nother: *a", "aliases"),
    ("- just\n- a list", "Document 1: document: ['just', 'a list'] is not of type 'object'"),
    ("apiVersion: v1\nkind: Component\nmetadata: {name: x}\nspec: {type: service, owner: t}",
     "apiVersion: 'v1' is not one of"),
    ("apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {name: Bad_Name}\n"
     "spec: {type: service, owner: platform}", "metadata.name: 'Bad_Name' does not match"),
    ("apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {name: x}\nspec: {}",
     "'type' is a required property"),
])
def test_invalid_descriptors_are_refused_with_a_reason(text, message):
    with pytest.raises(descriptors.DescriptorError) as raised:
        descriptors.parse(text)
    assert any(message in problem for problem in raised.value.problems), raised.value.problems


def component(name="pricing", owner="commerce", depends=(), annotations=None):
    return yaml.safe_dump({"apiVersion": "backstage.io/v1alpha1", "kind": "Component",
                           "metadata": {"name": name, "annotations": annotations or {}},
                           "spec": {"type": "service", "owner": owner,
                                    "dependsOn": list(depends)}})


@pytest.mark.parametrize("text, message", [
    (component(owner="nobody"), "owner 'nobody' is not a team of the catalog"),
    (component(depends=["component:ghost"]), "depends on 'ghost', which is neither"),
    (component(depends=["component:pricing"]), "cannot depend on itself"),
    (component(annotations={"meridian.io/tier": "7"}), "meridian.io/tier must be 1, 2 or 3"),
    (component(annotations={"meridian.io/failure-modes": "{}"}), "JSON list of strings"),
    (component(annotations={"meridian.io/dependencies": "[1]"}), "JSON object of objects"),
])
def test_references_are_checked_against_the_catalog_and_nothing_is_written(seeded, text,
                                                                            message):
    with pytest.raises(descriptors.DescriptorError) as raised:
        catalog.import_descriptors(session=seeded, text=text)
    assert any(message in problem for problem in raised.value.problems), raised.value.problems
    assert catalog.get_service(session=seeded, slug="pricing") is None
