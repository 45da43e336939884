"""catalog: entry facts, critical dependencies, full-text search, runbooks, score snapshots

Revision ID: 0600_catalog
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

# The generated search documents, copied here so later model edits never change history.
SERVICE_SEARCH_DOCUMENT = 'setweight(to_tsvector(\'english\', coalesce(name, \'\') || \' \' || coalesce(slug, \'\')), \'A\') || setweight(to_tsvector(\'english\', coalesce(purpose, \'\')), \'B\') || setweight(to_tsvector(\'english\', coalesce(language, \'\') || \' \' || coalesce(namespace, \'\') || \' \' || coalesce(slo_summary, \'\')), \'C\') || setweight(jsonb_to_tsvector(\'english\', coalesce(failure_modes, \'[]\'::jsonb), \'["string"]\'), \'C\')'
RUNBOOK_SEARCH_DOCUMENT = "setweight(to_tsvector('english', coalesce(title, '')), 'A') || setweight(to_tsvector('english', coalesce(body, '')), 'B')"

revision = "0600_catalog"
down_revision = "0001"
branch_labels = None
depends_on = None

_SERVICE_COLUMNS = (
    sa.Column("namespace", sa.String(length=80), nullable=True),
    sa.Column("clusters", postgresql.JSONB(), server_default="[]", nullable=False),
    sa.Column("dashboards", postgresql.JSONB(), server_default="[]", nullable=False),
    sa.Column("helm_chart", sa.String(length=63), nullable=True),
    sa.Column("oncall_schedule", sa.String(length=120), nullable=True),
    sa.Column("rpo", sa.String(length=200), nullable=True),
    sa.Column("rto", sa.String(length=200), nullable=True),
    sa.Column("backup", sa.Text(), nullable=True),
    sa.Column("redundancy", sa.Text(), nullable=True),
)


def upgrade() -> None:
    for column in _SERVICE_COLUMNS:
        op.add_column("services", column)
    # Added after the columns it reads: a generated column may only refer to existing ones.
    op.add_column("services", sa.Column(
        "search_vector", postgresql.TSVECTOR(),
        sa.Computed(SERVICE_SEARCH_DOCUMENT, persisted=True), nullable=True))
    op.create_index("ix_catalog_services_search", "services", ["search_vector"],
                    postgresql_using="gin")
    op.add_column("service_dependencies", sa.Column(
        "critical", sa.Boolean(), server_default=sa.true(), nullable=False))

    op.create_table(
        "catalog_runbooks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=80), nullable=False),
        sa.Column("title", sa.String(length=160), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=True),
        sa.Column("alertnames", postgresql.JSONB(), server_default="[]", nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"),
                  nullable=False),
        sa.Column("updated_by", sa.String(length=254), nullable=True),
        sa.Column("search_vector", postgresql.TSVECTOR(),
                  sa.Computed(RUNBOOK_SEARCH_DOCUMENT, persisted=True), nullable=True),
        sa.ForeignKeyConstraint(["service_id"], ["services.id"], ondelete="SET NULL",
                                name=op.f("fk_catalog_runbooks_service_id_services")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_runbooks")),
        sa.UniqueConstraint("slug", name=op.f("uq_catalog_runbooks_slug")),
    )
    op.create_index(op.f("ix_catalog_runbooks_service_id"), "catalog_runbooks", ["service_id"])
    op.create_index("ix_catalog_runbooks_search", "catalog_runbooks", ["search_vector"],
                    postgresql_using="gin")

    op.create_table(
        "catalog_score_snapshots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("taken_at", sa.DateTime(timezone=True), server_default=sa.text("now()"),
                  nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("passed", sa.Integer(), nullable=False),
        sa.Column("applicable", sa.Integer(), nullable=False),
        sa.Column("failing", postgresql.JSONB(), nullable=False),
        sa.ForeignKeyConstraint(["service_id"], ["services.id"], ondelete="CASCADE",
                                name=op.f("fk_catalog_score_snapshots_service_id_services")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_score_snapshots")),
    )
    op.create_index(op.f("ix_catalog_score_snapshots_service_id"), "catalog_score_snapshots",
                    ["service_id"])


def downgrade() -> None:
    op.drop_table("catalog_score_snapshots")
    op.drop_table("catalog_runbooks")
    op.drop_column("service_dependencies", "critical")
    op.drop_index("ix_catalog_services_search", table_name="services")
    op.drop_column("services", "search_vector")
    for column in reversed(_SERVICE_COLUMNS):
        op.drop_column("services", column.name)
