"""Which local row an object of another tool became: the memory that keeps a re-import
from creating a second copy of everything."""
from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from portal.oncall.rotation_models import ImportMapping


def find(*, session: Session, source: str, kind: str, external_id: str) -> int | None:
    """The local id an external object was imported as, if it was."""
    return session.scalar(select(ImportMapping.local_id).where(
        ImportMapping.source == source, ImportMapping.kind == kind,
        ImportMapping.external_id == external_id[:200]))


def remember(*, session: Session, source: str, kind: str, external_id: str,
             local_id: int) -> None:
    """Record (or move) the local id of an external object."""
    row = session.scalar(select(ImportMapping).where(
        ImportMapping.source == source, ImportMapping.kind == kind,
        ImportMapping.external_id == external_id[:200]))
    if row is None:
        session.add(ImportMapping(source=source, kind=kind, external_id=external_id[:200],
                                  local_id=local_id))
    elif row.local_id != local_id:
        row.local_id = local_id
    session.flush()


def remember_many(*, session: Session, source: str, kind: str,
                  local_ids: dict[str, int]) -> None:
    """`remember` for many objects of one kind in one batched upsert."""
    rows = {external_id[:200]: local_id for external_id, local_id in local_ids.items()}
    if rows:
        upsert = insert(ImportMapping)
        session.execute(upsert.on_conflict_do_update(
            constraint="uq_oncall_import_mappings_key",
            set_={"local_id": upsert.excluded.local_id}),
            [{"source": source, "kind": kind, "external_id": external_id,
              "local_id": local_id} for external_id, local_id in rows.items()])


def local_ids(*, session: Session, source: str, kind: str,
              prefix: str) -> dict[str, int]:
    """External id → local id of every mapping of `kind` whose external id starts with
    `prefix` (the overrides of one schedule, say)."""
    rows = session.execute(select(ImportMapping.external_id, ImportMapping.local_id).where(
        ImportMapping.source == source, ImportMapping.kind == kind,
        ImportMapping.external_id.startswith(prefix, autoescape=True)))
    return {external_id: local_id for external_id, local_id in rows}


def forget(*, session: Session, source: str, kind: str, external_ids: list[str]) -> None:
    """Drop mappings whose local rows are gone."""
    if external_ids:
        session.execute(delete(ImportMapping).where(
            ImportMapping.source == source, ImportMapping.kind == kind,
            ImportMapping.external_id.in_(external_ids)))
