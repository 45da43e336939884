"""The Backstage entity model: kinds, field formats, entity references and relations.

Pure functions over entity dicts (no database): `validate` gives one message per entity and
field, `parse_ref` resolves references the way Backstage's catalog does (a default kind per
field, the entity's own namespace by default), `relations_of` lists what an entity points at.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

import jsonschema

API_VERSIONS = ("backstage.io/v1alpha1", "backstage.io/v1beta1")
KINDS = ("Component", "API", "Resource", "System", "Domain", "Group", "User", "Location")
DEFAULT_NAMESPACE = "default"
# Root fields Backstage allows; `relations` and `status` are computed by a catalog, so an
# import recomputes them instead of keeping them.
ROOT_FIELDS = ("apiVersion", "kind", "metadata", "spec", "relations", "status")
# Metadata a catalog server assigns, present in entities read from Backstage's API.
SERVER_METADATA = ("uid", "etag", "generation")

OBJECT_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
DNS_LABEL = re.compile(r"^[a-z0-9]+(?:-+[a-z0-9]+)*$")
TAG = re.compile(r"^[a-z0-9+#]+(-[a-z0-9+#]+)*$")
KIND_NAME = re.compile(r"^[a-zA-Z][a-z0-9A-Z]*$")
URL_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*$")

_text = {"type": "string", "minLength": 1}
_refs = {"type": "array", "items": _text}
# What each kind's spec requires, after Backstage's v1alpha1 kind schemas.
SPECS = {
    "Component": {"required": ["type", "lifecycle", "owner"], "properties": {
        "type": _text, "lifecycle": _text, "owner": _text, "system": _text,
        "subcomponentOf": _text, "providesApis": _refs, "consumesApis": _refs,
        "dependsOn": _refs, "dependencyOf": _refs}},
    "API": {"required": ["type", "lifecycle", "owner", "definition"], "properties": {
        "type": _text, "lifecycle": _text, "owner": _text, "system": _text,
        "definition": _text}},
    "Resource": {"required": ["type", "owner"], "properties": {
        "type": _text, "owner": _text, "system": _text, "dependsOn": _refs,
        "dependencyOf": _refs}},
    "System": {"required": ["owner"], "properties": {
        "owner": _text, "domain": _text, "type": _text}},
    "Domain": {"required": ["owner"], "properties": {
        "owner": _text, "subdomainOf": _text, "type": _text}},
    "Group": {"required": ["type", "children"], "properties": {
        "type": _text, "parent": _text, "children": _refs, "members": _refs,
        "profile": {"type": "object", "properties": {
            "displayName": _text, "email": _text, "picture": _text}}}},
    "User": {"required": ["memberOf"], "properties": {
        "memberOf": _refs, "profile": {"type": "object", "properties": {
            "displayName": _text, "email": _text, "picture": _text}}}},
    "Location": {"required": [], "properties": {
        "type": _text, "target": _text, "targets": _refs,
        "presence": {"enum": ["required", "optional"]}}},
}
METADATA = {
    "type": "object", "required": ["name"],
    "properties": {
        "name": {"type": "string"}, "namespace": {"type": "string"},
        "title": _text, "description": {"type": "string"},
        "labels": {"type": "object", "additionalProperties": {"type": "string"}},
        "annotations": {"type": "object", "additionalProperties": {"type": "string"}},
        "tags": {"type": "array", "items": {"type": "string"}},
        "links": {"type": "array", "items": {
            "type": "object", "required": ["url"],
            "properties": {"url": {"type": "string"}, "title": _text, "icon": _text,
                           "type": _text}}},
    },
}
# Reference fields: spec key -> (default kind or None when the kind must be written,
# relation type, is a list).
# kind -> spec field -> (default kind of its refs, relation type, whether a list)
REFERENCES: dict[str, dict[str, tuple[str | None, str, bool]]] = {
    "Component": {"owner": ("group", "ownedBy", False), "system": ("system", "partOf", False),
                  "subcomponentOf": ("component", "partOf", False),
                  "providesApis": ("api", "providesApi", True),
                  "consumesApis": ("api", "consumesApi", True),
                  "dependsOn": (None, "dependsOn", True),
                  "dependencyOf": (None, "dependencyOf", True)},
    "API": {"owner": ("group", "ownedBy", False), "system": ("system", "partOf", False)},
    "Resource": {"owner": ("group", "ownedBy", False), "system": ("system", "partOf", False),
                 "dependsOn": (None, "dependsOn", True),
                 "dependencyOf": (None, "dependencyOf", True)},
    "System": {"owner": ("group", "ownedBy", False), "domain": ("domain", "partOf", False)},
    "Domain": {"owner": ("group", "ownedBy", False),
               "subdomainOf": ("domain", "partOf", False)},
    "Group": {"parent": ("group", "childOf", False), "children": ("group", "parentOf", True),
              "members": ("user", "hasMember", True)},
    "User": {"memberOf": ("group", "memberOf", True)},
    "Location": {},
}


@dataclass(frozen=True)
class Ref:
    """A resolved entity reference; kind in lower case as Backstage compares it."""
    kind: str
    namespace: str
    name: str

    def __str__(self) -> str:
        return f"{self.kind}:{self.namespace}/{self.name}"

    @property
    def key(self) -> str:
        """The reference as Backstage compares it: without case."""
        return str(self).lower()


class RefError(ValueError):
    """An entity reference that cannot be resolved; the message says why."""


def parse_ref(text: str, *, default_kind: str | None,
              default_namespace: str = DEFAULT_NAMESPACE) -> Ref:
    """`[kind:][namespace/]name` resolved with the field's default kind and namespace."""
    if not isinstance(text, str) or not text:
        raise RefError("an entity reference must be a non-empty string")
    kind, _, rest = text.partition(":") if ":" in text else (None, "", text)
    namespace, _, name = rest.partition("/") if "/" in rest else (None, "", rest)
    kind = kind if kind is not None else default_kind
    if kind is None:
        raise RefError(f"{text!r} must name its kind (for example component:{text})")
    namespace = namespace if namespace is not None else default_namespace
    if not (KIND_NAME.match(kind or "") and len(kind) <= 63):
        raise RefError(f"{text!r} has an invalid kind {kind!r}")
    if not (DNS_LABEL.match(namespace or "") and len(namespace) <= 63):
        raise RefError(f"{text!r} has an invalid namespace {namespace!r}")
    if not (OBJECT_NAME.match(name) and len(name) <= 63):
        raise RefError(f"{text!r} has an invalid name {name!r}")
    return Ref(kind.lower(), namespace, name)


def ref_of(entity: dict) -> Ref:
    """The reference of a (valid) entity itself."""
    meta = entity["metadata"]
    return Ref(entity["kind"].lower(), meta.get("namespace") or DEFAULT_NAMESPACE, meta["name"])


def relations_of(entity: dict) -> list[tuple[str, Ref]]:
    """(relation type, target) for every reference in a valid entity's spec, in field order."""
    spec, own = entity.get("spec") or {}, ref_of(entity).namespace
    out = []
    for key, (default_kind, relation, many) in REFERENCES[entity["kind"]].items():
        values = spec.get(key)
        if values is None:
            continue
        for value in values if many else [values]:
            out.append((relation, parse_ref(value, default_kind=default_kind,
                                            default_namespace=own)))
    return out


def valid_url(value: object) -> bool:
    """Whether Backstage accepts `value` as a link: `new URL(value)` must succeed, so an
    absolute URL with a scheme."""
    if not isinstance(value, str) or any(c.isspace() for c in value):
        return False
    parts = urlsplit(value)
    if not URL_SCHEME.match(parts.scheme or ""):
        return False
    return bool(parts.netloc) if parts.scheme.lower() in ("http", "https") else \
        bool(parts.path or parts.netloc)


def _valid_key(key: str) -> bool:
    prefix, _, name = key.rpartition("/") if "/" in key else ("", "", key)
    if "/" in prefix:
        return False
    prefix_ok = not prefix or (len(prefix) <= 253 and all(
        DNS_LABEL.match(p) and len(p) <= 63 for p in prefix.split(".")))
    return prefix_ok and len(name) <= 63 and bool(OBJECT_NAME.match(name))


def _format_problems(entity: dict) -> list[str]:
    meta = entity["metadata"]
    problems = []
    if not (OBJECT_NAME.match(meta["name"]) and len(meta["name"]) <= 63):
        problems.append(f"metadata.name: {meta['name']!r} must be 1-63 letters, digits and "
                        "-_. (starting and ending with a letter or digit)")
    namespace = meta.get("namespace")
    if namespace is not None and not (DNS_LABEL.match(namespace) and len(namespace) <= 63):
        problems.append(f"metadata.namespace: {namespace!r} must be lower-case letters, "
                        "digits and hyphens, at most 63")
    for key, value in (meta.get("labels") or {}).items():
        if not _valid_key(key):
            problems.append(f"metadata.labels: {key!r} is not a valid label key")
        if not (OBJECT_NAME.match(value) and len(value) <= 63):
            problems.append(f"metadata.labels.{key}: {value!r} is not a valid label value")
    for key in meta.get("annotations") or {}:
        if not _valid_key(key):
            problems.append(f"metadata.annotations: {key!r} is not a valid annotation key")
    for index, tag in enumerate(meta.get("tags") or []):
        if not (TAG.match(tag) and len(tag) <= 63):
            problems.append(f"metadata.tags.{index}: {tag!r} must be lower-case letters, "
                            "digits, + and #, separated by single hyphens")
    for index, link in enumerate(meta.get("links") or []):
        if not valid_url(link.get("url")):
            problems.append(f"metadata.links.{index}.url: {link.get('url')!r} must be an "
                            "absolute URL (https://...)")
    for key, (default_kind, _, many) in REFERENCES[entity["kind"]].items():
        values = (entity.get("spec") or {}).get(key)
        if values is None:
            continue
        for index, value in enumerate(values if many else [values]):
            where = f"spec.{key}.{index}" if many else f"spec.{key}"
            try:
                parse_ref(value, default_kind=default_kind)
            except RefError as exc:
                problems.append(f"{where}: {exc}")
    return problems


def _schema(kind: str) -> dict:
    return {"type": "object", "required": ["apiVersion", "kind", "metadata", "spec"],
            "properties": {"apiVersion": {"enum": list(API_VERSIONS)}, "metadata": METADATA,
                           "spec": {"type": "object", **SPECS[kind]}}}


VALIDATORS = {kind: jsonschema.Draft202012Validator(_schema(kind)) for kind in KINDS}


def validate(entity: object) -> list[str]:
    """Problems of one entity, each 'field: reason'; empty when Backstage would accept it."""
    if not isinstance(entity, dict):
        return [f"an entity must be a mapping, not {type(entity).__name__}"]
    kind = entity.get("kind")
    if kind not in KINDS:
        return [f"kind: {kind!r} is not supported (supported: {', '.join(KINDS)})"]
    problems = [f"{key}: is not an entity field (allowed: {', '.join(ROOT_FIELDS)})"
                for key in entity if key not in ROOT_FIELDS]
    errors = sorted(VALIDATORS[kind].iter_errors(entity), key=lambda e: list(e.absolute_path))
    for error in errors[:10]:
        where = ".".join(str(p) for p in error.absolute_path) or "entity"
        problems.append(f"{where}: {error.message}")
    if errors:
        return problems
    return problems + _format_problems(entity)


def cleaned(entity: dict) -> dict:
    """The entity as a catalog keeps it: computed root fields and server metadata dropped."""
    metadata = {k: v for k, v in entity["metadata"].items() if k not in SERVER_METADATA}
    out = {"apiVersion": entity["apiVersion"], "kind": entity["kind"], "metadata": metadata}
    out["spec"] = entity["spec"]
    return out
