"""Import Backstage entities into the catalog, export the catalog as entities (YAML or
JSON), and read their relations for the entities and service pages.

Every entity is kept whole with its relations (by reference, so a target imported later
resolves them); Components and Resources owned by a team become catalog entries, Groups
become teams. An owner group that does not exist yet becomes a team named after the
reference, which its Group entity names properly once imported.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from portal.catalog import descriptors
from portal.catalog import entities as model
from portal.catalog import service as catalog
from portal.catalog.descriptors import DescriptorError, ImportResult
from portal.catalog.models import CatalogEntity, Dependency, EntityRelation, Service, Team


def _stored(session: Session) -> dict[tuple[str, str, str], CatalogEntity]:
    return {(e.kind, e.namespace, e.name): e for e in session.scalars(select(CatalogEntity))}


def _case_conflicts(session: Session, entities: list[dict], stored: dict) -> list[str]:
    """Entities whose reference differs only in case from one the catalog already has, as an
    entity or as what a team or entry exports as: Backstage would take both for one."""
    taken = {row.ref.lower(): row.ref for row in stored.values()}
    for slug in session.scalars(select(Team.slug)):
        taken.setdefault(f"group:{model.DEFAULT_NAMESPACE}/{slug}",
                         f"group:{model.DEFAULT_NAMESPACE}/{slug}")
    for slug, kind in session.execute(select(Service.slug, Service.kind)):
        made = f"{descriptors.TYPE_OF_KIND[kind][0].lower()}:{model.DEFAULT_NAMESPACE}/{slug}"
        taken.setdefault(made, made)
    problems = []
    for entity in entities:
        ref = model.ref_of(entity)
        other = taken.get(ref.key)
        if other is not None and other != str(ref):
            problems.append(f"{ref}: the catalog already has {other}, the same name ignoring "
                            "case (Backstage compares names without case); use its spelling.")
    return problems


def _plan_entries(session: Session, entities: list[dict], stored: dict, base_url: str,
                  notes: list[str]) -> tuple[dict[str, dict], list[str]]:
    """slug -> {entity, fields, deps} for the entities that become catalog entries."""
    linked = {row.service_id: row for row in stored.values() if row.service_id}
    services = {s.slug: s for s in session.scalars(select(Service))}
    problems: list[str] = []
    planned: dict[str, dict[str, Any]] = {}
    for entity in entities:
        ref = model.ref_of(entity)
        slug, reason = descriptors.entry_slug(entity)
        if slug is None and reason and ref.name in services and \
                ref.namespace == model.DEFAULT_NAMESPACE:
            problems.append(f"{ref}: the catalog entry {ref.name!r} has this name, so the "
                            f"entity must be able to stay a catalog entry, but {reason}.")
            continue
        if slug is None:
            if reason:
                notes.append(f"{ref} is kept as a Backstage entity but is not a catalog "
                             f"entry: {reason}.")
            continue
        owner = linked.get(services[slug].id) if slug in services else None
        if slug in planned or (owner is not None and owner.ref != str(ref)):
            other = f"{planned[slug]['ref']}, earlier in this file" \
                if slug in planned or owner is None else owner.ref
            notes.append(f"{ref} is kept as a Backstage entity only, not a catalog entry: "
                         f"the entry {slug!r} comes from {other}, and an entry has one "
                         "entity.")
            continue
        deps = descriptors.dependencies_of(entity, problems)
        if slug in deps:
            problems.append(f"{slug}: cannot depend on itself.")
        planned[slug] = {"ref": ref, "entity": entity, "deps": deps,
                         "fields": descriptors.entry_facts(entity, base_url=base_url,
                                                           problems=problems)}
    return planned, problems


def _save_entity(session: Session, stored: dict, entity: dict) -> CatalogEntity:
    ref = model.ref_of(entity)
    row = stored.get((ref.kind, ref.namespace, ref.name))
    if row is None:
        row = CatalogEntity(kind=ref.kind, namespace=ref.namespace, name=ref.name)
        stored[(ref.kind, ref.namespace, ref.name)] = row
        session.add(row)
    row.document = entity
    row.relations = [EntityRelation(type=relation, target_ref=str(target))
                     for relation, target in model.relations_of(entity)]
    return row


def _team(session: Session, slug: str, notes: list[str]) -> Team:
    team = session.scalar(select(Team).where(Team.slug == slug))
    if team is None:
        team = catalog.upsert_team(session=session, slug=slug, name=slug, chat_channel=None)
        notes.append(f"Team {slug!r} was created for the owner reference "
                     f"group:default/{slug}; importing its Group entity names it.")
    return team


def import_entities(*, session: Session, text: str, base_url: str) -> ImportResult:
    """Create or update entities, catalog entries and teams from a descriptor file; raises
    DescriptorError (nothing written) when an entity is invalid."""
    entities = descriptors.parse(text)
    result, stored = ImportResult(), _stored(session)
    planned, problems = _plan_entries(session, entities, stored, base_url, result.notes)
    problems = _case_conflicts(session, entities, stored) + problems
    if problems:
        raise DescriptorError(problems)
    rows = {}
    for entity in entities:
        rows[model.ref_of(entity)] = row = _save_entity(session, stored, entity)
        result.entities.append(str(model.ref_of(entity)))
        slug = descriptors.team_of_group(entity)
        reason = descriptors.entity_only_reason(entity)
        if reason:
            result.notes.append(f"{model.ref_of(entity)} is kept as a Backstage entity only: "
                                f"{reason}.")
        if slug is not None:
            facts = descriptors.team_facts(entity)
            team = session.scalar(select(Team).where(Team.slug == slug))
            channel = facts.get("chat_channel", team.chat_channel if team else None)
            row.team = catalog.upsert_team(session=session, slug=slug, name=facts["name"],
                                           chat_channel=channel)
    existing = set(session.scalars(select(Service.slug)))
    saved = {}
    for slug, entry in planned.items():
        fields = entry["fields"] if slug in existing else descriptors.NEW_ENTRY | entry["fields"]
        owner_slug = descriptors.team_slug_of_owner(entry["entity"])
        assert owner_slug is not None  # entry_slug() plans only entities a team owns
        team = _team(session, owner_slug, result.notes)
        saved[slug] = catalog.upsert_service(session=session, slug=slug, team=team, **fields)
        rows[entry["ref"]].service = saved[slug]
        (result.updated if slug in existing else result.created).append(slug)
    session.flush()
    entries = existing | set(saved)
    for slug, entry in planned.items():
        deps = {target: info for target, info in entry["deps"].items() if target in entries}
        pending = sorted(set(entry["deps"]) - entries)
        if pending:
            result.notes.append(f"{slug} depends on {', '.join(pending)}, not in the catalog "
                                "yet: kept as references until they are imported.")
        catalog.set_dependencies(
            session=session, service=saved[slug],
            depends_on={target: purpose for target, (purpose, _) in deps.items()},
            degrading={target for target, (_, critical) in deps.items() if not critical})
    if result.created:
        _resolve_pending(session, set(result.created), skip=set(saved))
    return result


def _resolve_pending(session: Session, created: set[str], skip: set[str]) -> None:
    # Entries imported earlier whose dependsOn named an entry that exists only now.
    targets = {s.slug: s for s in session.scalars(select(Service).where(
        Service.slug.in_(created)))}
    rows = session.scalars(select(CatalogEntity).where(CatalogEntity.service_id.is_not(None)))
    for row in rows:
        service = row.service
        if service is None or service.slug in skip:
            continue
        wanted = descriptors.dependencies_of(row.document, [])
        present = {d.depends_on.slug for d in service.dependencies}
        for slug in sorted((set(wanted) & set(targets)) - present - {service.slug}):
            purpose, critical = wanted[slug]
            service.dependencies.append(Dependency(depends_on=targets[slug], purpose=purpose,
                                                   critical=critical))
    session.flush()


def export_entities(*, session: Session, base_url: str, slug: str | None = None) -> list[dict]:
    """Every entity of the catalog (teams, entries, then the other kinds), or one entry's."""
    rows = list(session.scalars(select(CatalogEntity)))
    by_service = {row.service_id: row.document for row in rows if row.service_id}
    by_team = {row.team_id: row.document for row in rows if row.team_id}
    entries = set(session.scalars(select(Service.slug)))
    if slug is not None:
        service = catalog.get_service(session=session, slug=slug)
        assert service is not None  # callers export an entry they found
        return [descriptors.entry_entity(service, by_service.get(service.id),
                                         base_url=base_url, entries=entries)]
    out = [descriptors.group_entity(team, by_team.get(team.id))
           for team in catalog.list_teams(session=session)]
    out += [descriptors.entry_entity(service, by_service.get(service.id), base_url=base_url,
                                     entries=entries)
            for service in catalog.list_services(session=session)]
    others = [row.document for row in rows if not row.service_id and not row.team_id]
    return out + sorted(others, key=descriptors.export_order)


def export_yaml(*, session: Session, base_url: str, slug: str | None = None) -> str:
    """export_entities as a multi-document catalog-info.yaml."""
    return descriptors.dump(export_entities(session=session, base_url=base_url, slug=slug))


def export_json(*, session: Session, base_url: str, slug: str | None = None) -> str:
    """export_entities as a JSON array."""
    return descriptors.dump_json(export_entities(session=session, base_url=base_url,
                                                 slug=slug))


# How the service page names a relation: by type, and for partOf by the target's kind.
LABELS = {"ownedBy": "owner", "providesApi": "provides API", "consumesApi": "consumes API",
          "dependsOn": "depends on", "dependencyOf": "dependency of",
          ("partOf", "system"): "system", ("partOf", "component"): "subcomponent of",
          ("partOf", "domain"): "domain"}


@dataclass(frozen=True)
class Related:
    """One relation of an entity as the entities and service pages show it."""
    type: str
    target: str
    resolved: bool  # the target is in the catalog (imported, or one of its entries or teams)
    anchor: str | None = None  # the target's row on the entities page, when imported
    entry: str | None = None  # the catalog entry the target is, if any
    via: str | None = None  # the entity the relation is reached through, if not direct

    @property
    def label(self) -> str:
        """The relation in words, e.g. 'owner' or 'subcomponent of'."""
        kind = self.target.partition(":")[0]
        return LABELS.get((self.type, kind)) or LABELS.get(self.type) or self.type


def anchor_of(row: CatalogEntity) -> str:
    """The id of an entity's row on the entities page."""
    return f"entity-{row.kind}-{row.namespace}-{row.name}"


def _catalog_made(session: Session, keys: set[str]) -> dict[str, str | None]:
    # Teams and entries are in the catalog without an imported entity: ref key -> entry slug.
    names = {key.partition("/")[2] for key in keys
             if key.startswith(f"group:{model.DEFAULT_NAMESPACE}/")}
    found: dict[str, str | None]
    found = {f"group:{model.DEFAULT_NAMESPACE}/{slug}": None for slug in session.scalars(
        select(Team.slug).where(Team.slug.in_(names)))} if names else {}
    names = {key.partition("/")[2] for key in keys}
    for slug, kind in session.execute(select(Service.slug, Service.kind).where(
            Service.slug.in_(names))) if names else ():
        made = f"{descriptors.TYPE_OF_KIND[kind][0].lower()}:{model.DEFAULT_NAMESPACE}/{slug}"
        if made in keys:
            found[made] = slug
    return found


def _entities_by_key(session: Session, keys: set[str]) -> dict[str, CatalogEntity]:
    key = func.lower(CatalogEntity.kind + ":" + CatalogEntity.namespace + "/" +
                     CatalogEntity.name)
    rows = session.scalars(select(CatalogEntity).where(key.in_(keys)).options(
        selectinload(CatalogEntity.service)))
    return {row.ref.lower(): row for row in rows}


def relations_of_service(*, session: Session, service: Service) -> list[Related]:
    """The relations of a catalog entry's imported entity (none if it was not imported), and
    the domain of its system; each target matched without case, as Backstage matches it."""
    direct = session.execute(select(EntityRelation.type, EntityRelation.target_ref).join(
        CatalogEntity, EntityRelation.source_id == CatalogEntity.id).where(
        CatalogEntity.service_id == service.id).order_by(EntityRelation.id)).all()
    if not direct:
        return []
    keys = {target.lower() for _, target in direct}
    targets = _entities_by_key(session, keys)
    systems = [row.id for key, row in targets.items() if key.startswith("system:")]
    through = session.execute(select(CatalogEntity.name, EntityRelation.target_ref).join(
        CatalogEntity, EntityRelation.source_id == CatalogEntity.id).where(
        EntityRelation.source_id.in_(systems), EntityRelation.type == "partOf",
        EntityRelation.target_ref.startswith("domain:"))).all() if systems else []
    wanted = keys | {target.lower() for _, target in through}
    if through:
        targets |= _entities_by_key(session, wanted - keys)
    made = _catalog_made(session, wanted)

    def related(type_: str, target: str, via: str | None = None) -> Related:
        row = targets.get(target.lower())
        entry = row.service.slug if row is not None and row.service is not None \
            else made.get(target.lower())
        return Related(type_, target, row is not None or target.lower() in made,
                       anchor=anchor_of(row) if row is not None else None, entry=entry,
                       via=via)
    return [related(t, target) for t, target in direct] + \
        [related("partOf", target, via=f"system {name}") for name, target in through]


def list_entities(*, session: Session) -> list[tuple[CatalogEntity, list[Related]]]:
    """Every imported entity, by kind and reference, with its relations and whether each
    target is in the catalog yet (references compared without case, as Backstage does)."""
    rows = list(session.scalars(select(CatalogEntity).options(
        selectinload(CatalogEntity.relations)).order_by(
        CatalogEntity.kind, CatalogEntity.namespace, CatalogEntity.name)))
    known = {row.ref.lower() for row in rows}
    known |= {f"group:{model.DEFAULT_NAMESPACE}/{slug}"
              for slug in session.scalars(select(Team.slug))}
    known |= {f"{descriptors.TYPE_OF_KIND[kind][0].lower()}:{model.DEFAULT_NAMESPACE}/{slug}"
              for slug, kind in session.execute(select(Service.slug, Service.kind))}
    return [(row, [Related(r.type, r.target_ref, r.target_ref.lower() in known)
                   for r in row.relations]) for row in rows]
