"""The Backstage entity model without a database: references, validation, relations."""
import pytest

from portal.catalog import entities


@pytest.mark.parametrize("text, default_kind, namespace, expected", [
    ("team-a", "group", "default", "group:default/team-a"),
    ("group:team-a", "group", "default", "group:default/team-a"),
    ("default/team-a", "group", "default", "group:default/team-a"),
    ("group:default/team-a", "group", "default", "group:default/team-a"),
    ("user:guest", "group", "default", "user:default/guest"),
    ("Group:ops/team-a", "group", "default", "group:ops/team-a"),
    ("spotify", "api", "external-systems", "api:external-systems/spotify"),
    ("internal/streetlights", "api", "external-systems", "api:internal/streetlights"),
    ("resource:artists-db", None, "default", "resource:default/artists-db"),
])
def test_references_resolve_with_the_fields_default_kind_and_namespace(text, default_kind,
                                                                        namespace, expected):
    ref = entities.parse_ref(text, default_kind=default_kind, default_namespace=namespace)
    assert str(ref) == expected


@pytest.mark.parametrize("text, message", [
    ("artists-db", "must name its kind"),
    ("", "non-empty string"),
    ("component:Bad_Space/x", "invalid namespace"),
    ("component:default/", "invalid name"),
    ("compo nent:x", "invalid kind"),
    ("k" * 64 + ":x", "invalid kind"),
])
def test_unresolvable_references_say_why(text, message):
    with pytest.raises(entities.RefError, match=message):
        entities.parse_ref(text, default_kind=None)


def entity(kind="Component", **spec):
    base = {"type": "service", "lifecycle": "production", "owner": "team-a"} \
        if kind == "Component" else {}
    return {"apiVersion": "backstage.io/v1alpha1", "kind": kind,
            "metadata": {"name": "artist-lookup"}, "spec": {**base, **spec}}


def test_relations_of_a_component_follow_every_reference_field():
    relations = entities.relations_of(entity(
        system="audio", subcomponentOf="player", providesApis=["spotify"],
        consumesApis=["api:ops/search"], dependsOn=["resource:db"],
        dependencyOf=["component:web"]))
    assert [(kind, str(ref)) for kind, ref in relations] == [
        ("ownedBy", "group:default/team-a"), ("partOf", "system:default/audio"),
        ("partOf", "component:default/player"), ("providesApi", "api:default/spotify"),
        ("consumesApi", "api:ops/search"), ("dependsOn", "resource:default/db"),
        ("dependencyOf", "component:default/web")]


def test_relations_of_groups_and_users():
    group = entity("Group", type="team", parent="acme", children=["sub"], members=["jdoe"])
    user = entity("User", memberOf=["team-a", "ops/infra"])
    assert [(k, str(r)) for k, r in entities.relations_of(group)] == [
        ("childOf", "group:default/acme"), ("parentOf", "group:default/sub"),
        ("hasMember", "user:default/jdoe")]
    assert [(k, str(r)) for k, r in entities.relations_of(user)] == [
        ("memberOf", "group:default/team-a"), ("memberOf", "group:ops/infra")]


@pytest.mark.parametrize("change, message", [
    ({"kind": "Template"}, "kind: 'Template' is not supported"),
    ({"extra": 1}, "extra: is not an entity field"),
    ({"spec": {"type": "service", "owner": "a"}}, "spec: 'lifecycle' is a required property"),
    ({"metadata": {"name": "x", "tags": ["Java"]}}, "metadata.tags.0: 'Java'"),
    ({"metadata": {"name": "x", "labels": {"a/b/c": "v"}}}, "'a/b/c' is not a valid label key"),
    ({"metadata": {"name": "x", "links": [{"url": "/d/x"}]}},
     "metadata.links.0.url: '/d/x' must be an absolute URL"),
    ({"metadata": {"name": "x", "namespace": "Ops"}}, "metadata.namespace: 'Ops'"),
    ({"metadata": {"name": "x" * 64}}, "metadata.name:"),
    ({"metadata": {"name": "x", "annotations": {"a": 1}}}, "metadata.annotations.a: 1 is not"),
])
def test_invalid_entities_get_a_message_per_field(change, message):
    problems = entities.validate(entity() | change)
    assert any(message in p for p in problems), problems


def test_valid_entities_of_every_kind_pass():
    specs = {"API": {"type": "openapi", "lifecycle": "production", "owner": "a",
                     "definition": "openapi: 3.0.0"},
             "Resource": {"type": "database", "owner": "a"}, "System": {"owner": "a"},
             "Domain": {"owner": "a"}, "Group": {"type": "team", "children": []},
             "User": {"memberOf": []}, "Location": {"target": "https://x.example/a.yaml"}}
    for kind, spec in specs.items():
        assert entities.validate({"apiVersion": "backstage.io/v1alpha1", "kind": kind,
                                  "metadata": {"name": "x"}, "spec": spec}) == []
