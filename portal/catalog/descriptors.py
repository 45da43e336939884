"""Backstage `catalog-info.yaml` descriptors: read a file into entities, map entities to
catalog entries and teams, and build the entities an export gives back.

Components and Resources of the default namespace owned by a group become catalog entries,
Groups of the default namespace become teams; every entity is also kept whole, so that what
the catalog has no column for (lifecycle, system, labels, tags, link icons, APIs, ...)
comes back unchanged. Catalog facts without a Backstage field travel as `meridian.io/*`
annotations (strings, as Backstage requires); dependency purposes and criticality as one
JSON annotation.
"""
from __future__ import annotations

import copy
import json
import math
import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from portal.catalog import entities as model
from portal.catalog.models import Service, Team
from portal.untrusted_yaml import UntrustedYamlError, load_all

MAX_ENTITIES = 500
MAX_CHARS = 1_000_000
MAX_DEPTH = 64
# Integers JavaScript (and so Backstage) represents exactly.
MAX_INT = 2 ** 53
SLUG = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
DATASTORE_TYPES = ("database", "datastore", "cache", "queue")
TYPE_OF_KIND = {"service": ("Component", "service"), "datastore": ("Resource", "database"),
                "infrastructure": ("Resource", "infrastructure")}
# Plain-text annotations and the Service attribute each one carries.
TEXT_ANNOTATIONS = {
    "meridian.io/language": "language", "meridian.io/namespace": "namespace",
    "meridian.io/oncall-schedule": "oncall_schedule", "meridian.io/slo": "slo_summary",
    "meridian.io/rpo": "rpo", "meridian.io/rto": "rto", "meridian.io/backup": "backup",
    "meridian.io/redundancy": "redundancy", "meridian.io/helm-chart": "helm_chart",
}
# Every annotation a catalog fact is written to.
ANNOTATION_OF = {"tier": "meridian.io/tier", "repository": "github.com/project-slug",
                 "clusters": "meridian.io/clusters",
                 "failure_modes": "meridian.io/failure-modes",
                 **{attr: key for key, attr in TEXT_ANNOTATIONS.items()}}
DEPENDENCIES = "meridian.io/dependencies"
CHAT_CHANNEL = "meridian.io/chat-channel"
# What a new catalog entry gets for each fact its entity leaves out.
NEW_ENTRY: dict[str, Any]
NEW_ENTRY = {"repository": None, "clusters": [], "failure_modes": [], "dashboards": [],
             **{attr: None for attr in TEXT_ANNOTATIONS.values()}}
EXPORT_ORDER = ("Domain", "System", "Group", "User", "API", "Component", "Resource",
                "Location")


class DescriptorError(ValueError):
    """The descriptor file cannot be imported; `problems` says why, one line each."""

    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass
class ImportResult:
    """Catalog entries created and updated, every entity saved, and notes for the importer."""
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    entities: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _label(index: int, entity: object) -> str:
    meta = entity.get("metadata") if isinstance(entity, dict) else None
    name = meta.get("name") if isinstance(meta, dict) else None
    kind = entity.get("kind") if isinstance(entity, dict) else None
    return f"Entity {index}" + (f" ({kind} {name})" if isinstance(name, str) else "")


def _plain_data_problems(data: object) -> list[str]:
    # Walked without recursion: anything PyYAML or json can build must be checked, however
    # deep, before it reaches jsonschema or PostgreSQL.
    problems: list[str] = []
    stack = [(data, "entity", 0)]
    while stack and len(problems) < 5:
        value, where, depth = stack.pop()
        if depth > MAX_DEPTH:
            return [f"{where}: nested deeper than {MAX_DEPTH} levels"]
        if isinstance(value, dict):
            for key, item in value.items():
                if not isinstance(key, str):
                    problems.append(f"{where}: key {key!r} must be text (quote it)")
                else:
                    stack.append((item, f"{where}.{key}", depth + 1))
        elif isinstance(value, list):
            stack.extend((item, f"{where}.{i}", depth + 1) for i, item in enumerate(value))
        elif isinstance(value, str):
            if "\x00" in value:
                problems.append(f"{where}: contains a NUL character")
        elif isinstance(value, bool) or value is None:
            continue
        elif isinstance(value, int):
            if abs(value) > MAX_INT:
                problems.append(f"{where}: the number is too large")
        elif isinstance(value, float):
            if not math.isfinite(value):
                problems.append(f"{where}: must be a finite number")
        else:
            problems.append(f"{where}: {type(value).__name__} values are not entity data "
                            "(quote dates and other special values)")
    return problems


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not a JSON number")


def _documents(text: str) -> list:
    if len(text) > MAX_CHARS:
        raise DescriptorError([f"The file is larger than {MAX_CHARS:,} characters."])
    if "\x00" in text:
        raise DescriptorError(["The file contains a NUL byte."])
    if text.lstrip().startswith(("{", "[")):
        try:
            return [json.loads(text, parse_constant=_reject_constant)]
        except RecursionError:
            raise DescriptorError([f"The JSON is nested deeper than {MAX_DEPTH} levels."]) \
                from None
        except ValueError:
            pass  # not JSON: YAML flow style, read below
    try:
        documents = load_all(text)
    except UntrustedYamlError as exc:
        raise DescriptorError([str(exc)]) from None
    except (ValueError, RecursionError) as exc:
        # PyYAML's constructors raise these for values Python refuses (e.g. huge integers).
        raise DescriptorError([f"Not valid YAML: {str(exc)[:200]}"]) from None
    merge_lines = _merge_key_lines(text) if "<<" in text else []
    if merge_lines:
        raise DescriptorError([
            f"Line {', '.join(map(str, merge_lines[:5]))}: YAML merge keys (<<) are not "
            "supported. Backstage's catalog reads YAML 1.2, where << is an ordinary field "
            "name and nothing is merged, so write the fields out (anchors and aliases of "
            "whole values are fine)."])
    return documents


def _merge_key_lines(text: str) -> list[int]:
    # A merge key is a plain `<<` scalar in key position; the token stream shows it without
    # building anything (the text already loaded, so it scans cleanly).
    lines, previous = [], None
    for token in yaml.scan(text, Loader=yaml.SafeLoader):
        if isinstance(previous, yaml.KeyToken) and isinstance(token, yaml.ScalarToken) and \
                token.plain and token.value == "<<":
            lines.append(token.start_mark.line + 1)
        previous = token
    return lines


def parse(text: str) -> list[dict]:
    """The entities of a YAML (one or more documents) or JSON file, validated the way
    Backstage validates them; raises DescriptorError with one line per entity and field."""
    found = []
    for document in _documents(text):
        if isinstance(document, list):
            found.extend(document)
        elif isinstance(document, dict) and "kind" not in document and \
                isinstance(document.get("items"), list):
            found.extend(document["items"])  # a Backstage API answer: {"items": [...]}
        elif document is not None:
            found.append(document)
    if not found:
        raise DescriptorError(["The file contains no entity."])
    if len(found) > MAX_ENTITIES:
        raise DescriptorError([f"At most {MAX_ENTITIES} entities per file."])
    problems: list[str] = []
    seen: dict[str, tuple[model.Ref, int]] = {}
    for index, entity in enumerate(found, start=1):
        errors = _plain_data_problems(entity) or model.validate(entity)
        problems += [f"{_label(index, entity)}: {error}" for error in errors]
        if not errors:
            ref = model.ref_of(entity)
            if ref.key in seen:
                other, first = seen[ref.key]
                same = "is also" if other == ref else \
                    "has the same name, ignoring case (as Backstage compares names), as"
                problems.append(f"{_label(index, entity)}: {ref} {same} {other}, entity "
                                f"{first} of this file.")
            seen.setdefault(ref.key, (ref, index))
    if problems:
        raise DescriptorError(problems)
    return [model.cleaned(entity) for entity in found]


def team_slug_of_owner(entity: dict) -> str | None:
    """The team an entity's owner names: a group of the default namespace, else None."""
    owner = model.parse_ref(entity["spec"]["owner"], default_kind="group",
                            default_namespace=model.ref_of(entity).namespace)
    if owner.kind == "group" and owner.namespace == model.DEFAULT_NAMESPACE and \
            SLUG.match(owner.name):
        return owner.name
    return None


def entry_slug(entity: dict) -> tuple[str | None, str]:
    """The catalog entry an entity maps to, or None and the reason it stays an entity only."""
    ref = model.ref_of(entity)
    if entity["kind"] not in ("Component", "Resource"):
        return None, ""
    if ref.namespace != model.DEFAULT_NAMESPACE:
        return None, f"namespace {ref.namespace!r} is not the catalog's ('default')"
    if not SLUG.match(ref.name):
        return None, "its name is not a catalog address (lower-case letters, digits, hyphens)"
    if team_slug_of_owner(entity) is None:
        return None, f"its owner {entity['spec']['owner']!r} is not a group of the default " \
                     "namespace (a team)"
    return ref.name, ""


def team_of_group(entity: dict) -> str | None:
    """The team slug a Group entity maps to (default namespace, catalog-style name)."""
    ref = model.ref_of(entity)
    if entity["kind"] == "Group" and ref.namespace == model.DEFAULT_NAMESPACE and \
            SLUG.match(ref.name):
        return ref.name
    return None


def entity_only_reason(entity: dict) -> str:
    """Why an entity that is neither a catalog entry nor a team stays an entity only, or ''
    when that needs no saying (other kinds of the default namespace)."""
    ref = model.ref_of(entity)
    if entity["kind"] == "Group" and ref.namespace != model.DEFAULT_NAMESPACE:
        return f"it is not a team because namespace {ref.namespace!r} is not the " \
               "catalog's ('default')"
    if entity["kind"] == "Group" and not SLUG.match(ref.name):
        return "it is not a team because its name is not a team address (lower-case " \
               "letters, digits, hyphens)"
    if entity["kind"] not in ("Component", "Resource") and \
            ref.namespace != model.DEFAULT_NAMESPACE:
        return f"the catalog has no page for {entity['kind']} entities in any namespace " \
               f"(namespace {ref.namespace!r}); it is listed with the Backstage entities"
    return ""


def team_facts(entity: dict) -> dict:
    """name and chat channel a Group gives its team (the channel only when annotated)."""
    meta = entity["metadata"]
    profile = entity["spec"].get("profile") or {}
    facts = {"name": (meta.get("title") or profile.get("displayName") or meta["name"])[:120]}
    channel = (meta.get("annotations") or {}).get(CHAT_CHANNEL)
    if channel is not None:
        facts["chat_channel"] = channel[:80] or None
    return facts


def _kind_of(entity: dict) -> str:
    if entity["kind"] == "Component":
        return "service"
    return "datastore" if entity["spec"]["type"] in DATASTORE_TYPES else "infrastructure"


def absolute_url(path: str, base_url: str) -> str:
    """A dashboard path as the absolute link Backstage requires, under the portal's URL."""
    if model.valid_url(path):
        return path
    return base_url.rstrip("/") + "/" + path.lstrip("/")


def _path_of(url: str, base_url: str) -> str:
    prefix = base_url.rstrip("/")
    return url[len(prefix):] if url.startswith(prefix + "/") else url


def entry_facts(entity: dict, *, base_url: str, problems: list[str]) -> dict:
    """The catalog-entry facts an entity states (facts it leaves out are absent)."""
    meta, notes = entity["metadata"], entity["metadata"].get("annotations", {})
    name = meta["name"]
    facts = {"name": (meta.get("title") or name)[:120], "purpose": meta.get("description", ""),
             "kind": _kind_of(entity)}
    tier = notes.get("meridian.io/tier", "2")
    if tier not in ("1", "2", "3"):
        problems.append(f"{name}: meridian.io/tier must be 1, 2 or 3, not {tier!r}.")
    facts["tier"] = int(tier) if tier in ("1", "2", "3") else 2
    if "github.com/project-slug" in notes:
        facts["repository"] = ("https://github.com/" + notes["github.com/project-slug"])[:200]
    facts.update({attr: notes[key] for key, attr in TEXT_ANNOTATIONS.items() if key in notes})
    if "meridian.io/clusters" in notes:
        facts["clusters"] = [c.strip() for c in notes["meridian.io/clusters"].split(",")
                             if c.strip()]
    if "links" in meta:
        facts["dashboards"] = [{"title": link.get("title") or link["url"],
                                "path": _path_of(link["url"], base_url)}
                               for link in meta["links"] if link.get("type") == "dashboard"]
    try:
        modes = json.loads(notes.get("meridian.io/failure-modes", "null"))
    except ValueError:
        modes = "invalid"
    if modes is not None and not (isinstance(modes, list) and all(isinstance(m, str)
                                                                    for m in modes)):
        problems.append(f"{name}: meridian.io/failure-modes must be a JSON list of strings.")
    elif modes is not None:
        facts["failure_modes"] = modes
    for attr, limit in (("language", 40), ("namespace", 80), ("oncall_schedule", 120),
                        ("rpo", 200), ("rto", 200), ("helm_chart", 63)):
        if len(facts.get(attr) or "") > limit:
            problems.append(f"{name}: {ANNOTATION_OF[attr]} is longer than {limit} characters.")
    return facts


def dependencies_of(entity: dict, problems: list[str]) -> dict[str, tuple[str, bool]]:
    """slug -> (purpose, critical) for the dependsOn refs that can be catalog entries, with
    purposes and criticality from the JSON annotation."""
    notes = entity["metadata"].get("annotations", {})
    try:
        extra = json.loads(notes.get(DEPENDENCIES, "{}"))
    except ValueError:
        extra = None
    if not (isinstance(extra, dict) and all(isinstance(v, dict) for v in extra.values())):
        problems.append(f"{entity['metadata']['name']}: {DEPENDENCIES} must be a "
                        "JSON object of objects.")
        extra = {}
    out = {}
    for ref in entity["spec"].get("dependsOn", []):
        slug = _entry_of_ref(ref, model.ref_of(entity).namespace)
        if slug is not None:
            info = extra.get(slug, {})
            out[slug] = (str(info.get("purpose", ""))[:200],
                         info.get("critical", True) is not False)
    return out


def _entry_of_ref(ref: str, namespace: str) -> str | None:
    target = model.parse_ref(ref, default_kind=None, default_namespace=namespace)
    if target.kind in ("component", "resource") and \
            target.namespace == model.DEFAULT_NAMESPACE and SLUG.match(target.name):
        return target.name
    return None


def facts_of(service: Service) -> dict:
    """The facts of a catalog entry that an entity carries, in entry_facts' form."""
    facts = {"name": service.name, "purpose": service.purpose or "", "kind": service.kind,
             "tier": service.tier, "repository": service.repository,
             "clusters": list(service.clusters or []),
             "failure_modes": list(service.failure_modes or []),
             "dashboards": [{"title": d["title"], "path": d["path"]}
                            for d in service.dashboards or []]}
    facts.update({attr: getattr(service, attr) for attr in TEXT_ANNOTATIONS.values()})
    return facts


def _dependency_facts(service: Service) -> dict[str, tuple[str, bool]]:
    return {d.depends_on.slug: (d.purpose or "", d.critical) for d in service.dependencies}


def _tag(language: str) -> str:
    return re.sub(r"[^a-z0-9+#]+", "-", language.lower()).strip("-")


def to_descriptor(service: Service, *, base_url: str) -> dict:
    """A Backstage entity for one catalog entry, from the catalog's facts alone."""
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
    dependencies = sorted(service.dependencies, key=lambda d: d.depends_on.slug)
    annotations[DEPENDENCIES] = json.dumps(
        {d.depends_on.slug: {"purpose": d.purpose, "critical": d.critical}
         for d in dependencies})
    metadata = {"name": service.slug, "title": service.name, "description": service.purpose,
                "annotations": annotations,
                "links": [{"url": absolute_url(d["path"], base_url), "title": d["title"],
                           "icon": "dashboard", "type": "dashboard"}
                          for d in service.dashboards or []]}
    if service.language and _tag(service.language):
        metadata["tags"] = [_tag(service.language)]
    spec = {"type": spec_type, "lifecycle": "production", "owner": f"group:{service.team.slug}",
            "system": "meridian",
            "dependsOn": [f"{TYPE_OF_KIND[d.depends_on.kind][0].lower()}:{d.depends_on.slug}"
                          for d in dependencies]}
    if kind == "Resource":
        del spec["lifecycle"]
    return {"apiVersion": model.API_VERSIONS[0], "kind": kind, "metadata": metadata,
            "spec": spec}


def _set_annotation(entity: dict, key: str, value: str | None) -> None:
    notes = entity["metadata"].setdefault("annotations", {})
    if value is None:
        notes.pop(key, None)
    else:
        notes[key] = value
    if not notes:
        del entity["metadata"]["annotations"]


def entry_entity(service: Service, stored: dict | None, *, base_url: str,
                 entries: set[str]) -> dict:
    """The entity of a catalog entry: the imported one, with the facts the catalog changed
    since written back; `entries` are the slugs of all catalog entries."""
    fresh = to_descriptor(service, base_url=base_url)
    if stored is None:
        return fresh
    out = copy.deepcopy(stored)
    implied = NEW_ENTRY | entry_facts(stored, base_url=base_url, problems=[])
    for key, value in facts_of(service).items():
        if implied.get(key) == value:
            continue
        if key == "name":
            out["metadata"]["title"] = fresh["metadata"]["title"]
        elif key == "purpose":
            out["metadata"]["description"] = fresh["metadata"]["description"]
        elif key == "kind":
            out["kind"], out["spec"]["type"] = fresh["kind"], fresh["spec"]["type"]
            if out["kind"] == "Component":
                out["spec"].setdefault("lifecycle", "production")
        elif key == "dashboards":
            kept = [link for link in out["metadata"].get("links", [])
                    if link.get("type") != "dashboard"]
            out["metadata"]["links"] = kept + fresh["metadata"]["links"]
        else:
            _set_annotation(out, ANNOTATION_OF[key],
                            fresh["metadata"]["annotations"].get(ANNOTATION_OF[key]))
    if team_slug_of_owner(stored) != service.team.slug:
        out["spec"]["owner"] = fresh["spec"]["owner"]
    implied_deps = {slug: info for slug, info in dependencies_of(stored, []).items()
                    if slug in entries}
    if implied_deps != _dependency_facts(service):
        namespace = model.ref_of(stored).namespace
        unresolved = [ref for ref in stored["spec"].get("dependsOn", [])
                      if _entry_of_ref(ref, namespace) not in entries]
        out["spec"]["dependsOn"] = unresolved + fresh["spec"]["dependsOn"]
        _set_annotation(out, DEPENDENCIES, fresh["metadata"]["annotations"][DEPENDENCIES])
    return out


def group_entity(team: Team, stored: dict | None) -> dict:
    """The Group entity of a team: the imported one with the team's current name and channel."""
    if stored is None:
        metadata: dict[str, Any] = {"name": team.slug, "title": team.name}
        if team.chat_channel:
            metadata["annotations"] = {CHAT_CHANNEL: team.chat_channel}
        return {"apiVersion": model.API_VERSIONS[0], "kind": "Group", "metadata": metadata,
                "spec": {"type": "team", "children": []}}
    out = copy.deepcopy(stored)
    implied = team_facts(stored)
    if implied["name"] != team.name:
        out["metadata"]["title"] = team.name
    if implied.get("chat_channel", team.chat_channel) != team.chat_channel:
        _set_annotation(out, CHAT_CHANNEL, team.chat_channel)
    return out


def export_order(entity: dict) -> tuple:
    """Sort key of entities that only the entity store has."""
    ref = model.ref_of(entity)
    return EXPORT_ORDER.index(entity["kind"]), ref.namespace, ref.name


class _NoAliasDumper(yaml.SafeDumper):
    """Writes repeated values out in full: exports are read by tools that refuse aliases."""

    def ignore_aliases(self, data) -> bool:
        return True


def dump(entities: list[dict]) -> str:
    """A multi-document catalog-info.yaml of `entities`."""
    return yaml.dump_all(entities, Dumper=_NoAliasDumper, sort_keys=False, allow_unicode=True)


def dump_json(entities: list[dict]) -> str:
    """`entities` as a JSON array, the shape Backstage's catalog API answers with."""
    return json.dumps(entities, indent=2, ensure_ascii=False) + "\n"
