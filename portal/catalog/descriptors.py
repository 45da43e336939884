"""Backstage `catalog-info.yaml` descriptors: export catalog entries, import them back.

Catalog facts without a Backstage field travel as `meridian.io/*` annotations (strings, as
Backstage requires); dependency purposes and criticality as one JSON annotation.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field

import jsonschema
import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.catalog.models import Service, Team

API_VERSIONS = ("backstage.io/v1alpha1", "backstage.io/v1beta1")
SKIPPED_KINDS = ("System", "Domain", "Group", "User", "API", "Location", "Template")
MAX_DOCUMENTS = 200
NAME = r"^[a-z0-9]+(-[a-z0-9]+)*$"
TYPE_OF_KIND = {"service": ("Component", "service"), "datastore": ("Resource", "database"),
                "infrastructure": ("Resource", "infrastructure")}
# Plain-text annotations and the Service attribute each one carries.
TEXT_ANNOTATIONS = {
    "meridian.io/language": "language", "meridian.io/namespace": "namespace",
    "meridian.io/oncall-schedule": "oncall_schedule", "meridian.io/slo": "slo_summary",
    "meridian.io/rpo": "rpo", "meridian.io/rto": "rto", "meridian.io/backup": "backup",
    "meridian.io/redundancy": "redundancy", "meridian.io/helm-chart": "helm_chart",
}
_short = {"type": "string", "maxLength": 2000}
SCHEMA = {
    "type": "object",
    "required": ["apiVersion", "kind", "metadata", "spec"],
    "properties": {
        "apiVersion": {"enum": list(API_VERSIONS)},
        "kind": {"enum": ["Component", "Resource"]},
        "metadata": {
            "type": "object", "required": ["name"],
            "properties": {
                "name": {"type": "string", "pattern": NAME, "maxLength": 63},
                "title": {"type": "string", "maxLength": 120},
                "description": {"type": "string", "maxLength": 4000},
                "annotations": {"type": "object", "additionalProperties": _short},
                "tags": {"type": "array", "items": {"type": "string", "maxLength": 63}},
                "links": {"type": "array", "items": {
                    "type": "object", "required": ["url"],
                    "properties": {"url": {"type": "string", "minLength": 1, "maxLength": 500},
                                   "title": {"type": "string", "maxLength": 120}}}},
            }},
        "spec": {
            "type": "object", "required": ["type", "owner"],
            "properties": {
                "type": {"type": "string", "maxLength": 40},
                "owner": {"type": "string", "pattern": r"^(group:(default/)?)?[a-z0-9-]+$"},
                "lifecycle": {"type": "string"},
                "dependsOn": {"type": "array", "maxItems": 100,
                              "items": {"type": "string", "pattern":
                                        r"^(component|resource):(default/)?[a-z0-9-]+$"}},
            }},
    },
}


class DescriptorError(ValueError):
    """The descriptor file cannot be imported; `problems` says why, one line each."""

    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass
class ImportResult:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)


def to_descriptor(service: Service) -> dict:
    """A Backstage entity for one catalog entry."""
    kind, spec_type = TYPE_OF_KIND[service.kind]
    annotations = {"meridian.io/tier": str(service.tier)}
    if service.repository:
        annotations["github.com/project-slug"] = service.repository.removeprefix(
            "https://github.com/")
    for key, attr in TEXT_ANNOTATIONS.items():
        if getattr(service, attr):
            annotations[key] = str(getattr(service, attr))
    annotations["meridian.io/clusters"] = ",".join(service.clusters or [])
    annotations["meridian.io/failure-modes"] = json.dumps(service.failure_modes or [])
    annotations["meridian.io/dependencies"] = json.dumps(
        {d.depends_on.slug: {"purpose": d.purpose, "critical": d.critical}
         for d in sorted(service.dependencies, key=lambda d: d.depends_on.slug)})
    depends = [f"{TYPE_OF_KIND[d.depends_on.kind][0].lower()}:{d.depends_on.slug}"
               for d in sorted(service.dependencies, key=lambda d: d.depends_on.slug)]
    metadata = {"name": service.slug, "title": service.name, "description": service.purpose,
                "annotations": annotations,
                "links": [{"url": d["path"], "title": d["title"], "type": "dashboard"}
                          for d in service.dashboards or []]}
    if service.language:
        metadata["tags"] = [service.language.lower()]
    return {"apiVersion": API_VERSIONS[0], "kind": kind, "metadata": metadata,
            "spec": {"type": spec_type, "lifecycle": "production",
                     "owner": f"group:{service.team.slug}", "system": "meridian",
                     "dependsOn": depends}}


def export(services: list[Service]) -> str:
    """A multi-document catalog-info.yaml for `services`."""
    return yaml.safe_dump_all([to_descriptor(s) for s in services], sort_keys=False,
                              allow_unicode=True)


def parse(text: str) -> list[dict]:
    """The Component/Resource documents of a descriptor file, validated; raises DescriptorError."""
    try:
        if any(isinstance(t, yaml.AliasToken) for t in yaml.scan(text)):
            raise DescriptorError(["YAML aliases (*name) are not accepted in descriptors."])
        documents = [d for d in yaml.safe_load_all(text) if d is not None]
    except yaml.YAMLError as exc:
        raise DescriptorError([f"Not valid YAML: {exc}"]) from exc
    if not documents:
        raise DescriptorError(["The file contains no YAML document."])
    if len(documents) > MAX_DOCUMENTS:
        raise DescriptorError([f"At most {MAX_DOCUMENTS} documents per file."])
    problems, entities = [], []
    validator = jsonschema.Draft202012Validator(SCHEMA)
    for index, doc in enumerate(documents, start=1):
        if isinstance(doc, dict) and doc.get("kind") in SKIPPED_KINDS:
            continue
        errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))
        label = (doc.get("metadata") or {}).get("name") if isinstance(doc, dict) and \
            isinstance(doc.get("metadata"), dict) else None
        for error in errors[:5]:
            where = ".".join(str(p) for p in error.absolute_path) or "document"
            problems.append(f"Document {index}{f' ({label})' if label else ''}: {where}: "
                            f"{error.message}")
        if not errors:
            entities.append(doc)
    if problems:
        raise DescriptorError(problems)
    return entities


def _kind_of(entity: dict) -> str:
    if entity["kind"] == "Component":
        return "service"
    return "datastore" if entity["spec"]["type"] in ("database", "datastore", "cache", "queue") \
        else "infrastructure"


def _fields(entity: dict, problems: list[str]) -> dict:
    meta, notes = entity["metadata"], entity["metadata"].get("annotations", {})
    name = meta["name"]
    fields = {"name": meta.get("title") or name, "purpose": meta.get("description", ""),
              "kind": _kind_of(entity)}
    tier = notes.get("meridian.io/tier", "2")
    if tier not in ("1", "2", "3"):
        problems.append(f"{name}: meridian.io/tier must be 1, 2 or 3, not {tier!r}.")
    fields["tier"] = int(tier) if tier in ("1", "2", "3") else 2
    if "github.com/project-slug" in notes:
        fields["repository"] = "https://github.com/" + notes["github.com/project-slug"]
    fields.update({attr: notes[key] for key, attr in TEXT_ANNOTATIONS.items() if key in notes})
    if "meridian.io/clusters" in notes:
        fields["clusters"] = [c for c in notes["meridian.io/clusters"].split(",") if c]
    if "links" in meta:
        fields["dashboards"] = [{"title": link.get("title") or link["url"], "path": link["url"]}
                                for link in meta["links"] if link.get("type", "dashboard") ==
                                "dashboard"]
    try:
        modes = json.loads(notes.get("meridian.io/failure-modes", "null"))
    except ValueError:
        modes = "invalid"
    if modes is not None and not (isinstance(modes, list) and all(isinstance(m, str)
                                                                    for m in modes)):
        problems.append(f"{name}: meridian.io/failure-modes must be a JSON list of strings.")
    elif modes is not None:
        fields["failure_modes"] = modes
    return fields


def dependencies_of(entity: dict, problems: list[str]) -> dict[str, tuple[str, bool]]:
    """slug -> (purpose, critical) for the entity's dependsOn, using its JSON annotation."""
    notes = entity["metadata"].get("annotations", {})
    try:
        extra = json.loads(notes.get("meridian.io/dependencies", "{}"))
    except ValueError:
        extra = None
    if not (isinstance(extra, dict) and all(isinstance(v, dict) for v in extra.values())):
        problems.append(f"{entity['metadata']['name']}: meridian.io/dependencies must be a "
                        "JSON object of objects.")
        extra = {}
    out = {}
    for ref in entity["spec"].get("dependsOn", []):
        slug = ref.rsplit("/", 1)[-1].split(":", 1)[-1]
        info = extra.get(slug, {})
        out[slug] = (str(info.get("purpose", ""))[:200], info.get("critical", True) is not False)
    return out


def plan(*, session: Session, entities: list[dict]) -> tuple[list[dict], list[str]]:
    """Check references against the catalog; returns (resolved entries, problems)."""
    teams = {t.slug: t for t in session.scalars(select(Team))}
    known = set(session.scalars(select(Service.slug))) | {e["metadata"]["name"] for e in entities}
    problems, resolved = [], []
    for entity in entities:
        name = entity["metadata"]["name"]
        owner = entity["spec"]["owner"].rsplit("/", 1)[-1].removeprefix("group:")
        if owner not in teams:
            problems.append(f"{name}: owner {owner!r} is not a team of the catalog "
                            f"(known: {', '.join(sorted(teams))}).")
        deps = dependencies_of(entity, problems)
        for slug in sorted(set(deps) - known):
            problems.append(f"{name}: depends on {slug!r}, which is neither in the catalog "
                            "nor in this file.")
        if name in deps:
            problems.append(f"{name}: cannot depend on itself.")
        resolved.append({"slug": name, "team": teams.get(owner), "deps": deps,
                         "fields": _fields(entity, problems)})
    return resolved, problems
