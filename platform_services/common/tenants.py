"""Each service's own registry of tenants (id and slug as in the portal's `tenants` table).

The services never read the portal's tables: tenants are registered with
`PUT /v1/tenants/<slug>` (the demo seeding and the load generator do it), and every
tenant-scoped row carries a `tenant_id` column.
"""
from __future__ import annotations

import re

from flask import Blueprint, jsonify
from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from platform_services.common.app import ApiError, json_body
from platform_services.common.schemas import TenantRegistration, parse

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
# ASCII digits only: str.isdigit() also accepts "²" (int() refuses it) and "٢" (read as 2).
DIGITS = re.compile(r"^[0-9]+$")
MAX_TENANT_ID = 2**31 - 1  # the INTEGER tenant_id columns


def parse_ref(ref: str) -> int | str | None:
    """The tenant id (int) or slug (str) written in a path; None when it can name no tenant."""
    if DIGITS.match(ref):  # an all-digit ref is an id, never a slug
        number = int(ref) if len(ref) <= 10 else 0
        return number if 1 <= number <= MAX_TENANT_ID else None
    return ref if SLUG.match(ref) else None


def tenants_table(metadata: MetaData) -> Table:
    """The `tenants` table of one service's schema."""
    return Table("tenants", metadata,
                 Column("id", Integer, primary_key=True, autoincrement=False),
                 Column("slug", String(63), nullable=False, unique=True),
                 Column("name", String(200), nullable=False),
                 Column("registered_at", DateTime(timezone=True), server_default=func.now(),
                        nullable=False))


def resolve(conn: Connection, table: Table, ref: str) -> int:
    """The id of the tenant given by slug or id, or a 404 ApiError."""
    value = parse_ref(ref)
    if value is None:
        raise ApiError(404, "unknown_tenant", f"no tenant {ref[:80]!r}")
    column = table.c.id if isinstance(value, int) else table.c.slug
    tenant_id = conn.scalar(select(table.c.id).where(column == value))
    if tenant_id is None:
        raise ApiError(404, "unknown_tenant", f"no tenant {ref[:80]!r}")
    return tenant_id


def register(conn: Connection, table: Table, *, tenant_id: int, slug: str, name: str) -> None:
    """Insert or update a tenant (idempotent)."""
    stmt = insert(table).values(id=tenant_id, slug=slug, name=name)
    conn.execute(stmt.on_conflict_do_update(index_elements=[table.c.id],
                                            set_={"slug": slug, "name": name}))


def blueprint(engine: Engine, table: Table) -> Blueprint:
    """`PUT /v1/tenants/<slug>` with {"id": int, "name": str}: register a tenant."""
    bp = Blueprint("tenants", __name__)

    @bp.put("/v1/tenants/<slug>")
    def put_tenant(slug: str):
        data = json_body()
        if not SLUG.match(slug):
            raise ApiError(422, "invalid", "invalid tenant",
                           {"slug": "lowercase letters, digits and dashes, at most 63"})
        req = parse(TenantRegistration, data, "invalid tenant")
        name = slug if req.name is None else req.name
        try:
            with engine.begin() as conn:
                register(conn, table, tenant_id=req.id, slug=slug, name=name)
        except IntegrityError as exc:
            raise ApiError(409, "conflict", f"slug {slug!r} belongs to another tenant id") \
                from exc
        return jsonify({"id": req.id, "slug": slug, "name": name})

    return bp
