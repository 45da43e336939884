"""Tables of the `worker` schema: jobs (exports, reports) and their events."""
from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID

from platform_services.common.outbox import inbox_table, outbox_table
from platform_services.common.tenants import tenants_table

metadata = MetaData(schema="worker")
tenants = tenants_table(metadata)
outbox = outbox_table(metadata)
processed = inbox_table(metadata)

JOB_KINDS = ("tenant_export", "report")
JOB_STATUSES = ("queued", "running", "succeeded", "failed", "skipped")

jobs = Table(
    "jobs", metadata,
    Column("id", UUID(as_uuid=False), primary_key=True, server_default=text("gen_random_uuid()")),
    Column("tenant_id", Integer, ForeignKey("worker.tenants.id"), nullable=False, index=True),
    Column("kind", String(20), nullable=False),
    Column("params", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column("status", String(20), nullable=False, server_default="queued"),
    Column("object_key", String(300)),
    Column("bytes_written", BigInteger),
    Column("rows_written", Integer),
    Column("error", Text),
    Column("created_at", DateTime(timezone=True), server_default=func.now(), nullable=False),
    Column("started_at", DateTime(timezone=True)),
    Column("finished_at", DateTime(timezone=True)),
    CheckConstraint("kind IN ('tenant_export', 'report')", name="ck_jobs_kind"),
    CheckConstraint("status IN ('queued', 'running', 'succeeded', 'failed', 'skipped')",
                    name="ck_jobs_status"),
)
