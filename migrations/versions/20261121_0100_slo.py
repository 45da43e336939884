"""slo: specs, per-minute samples with hourly and daily rollups, scrape cursors, policy overrides

Revision ID: 0100_slo
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = "0100_slo"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "slo_specs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=63), nullable=False),
        sa.Column("sli_kind", sa.String(length=10), nullable=False),
        sa.Column("objective", sa.Numeric(precision=7, scale=4), nullable=False),
        sa.Column("window_days", sa.Integer(), nullable=False),
        sa.Column("owner", sa.String(length=120), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("good_query", sa.Text(), nullable=False),
        sa.Column("total_query", sa.Text(), nullable=False),
        sa.Column("latency_threshold_ms", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"),
                  nullable=False),
        sa.CheckConstraint("objective > 0 AND objective < 100", name=op.f("ck_slo_specs_objective")),
        sa.CheckConstraint("window_days BETWEEN 1 AND 90", name=op.f("ck_slo_specs_window_days")),
        sa.CheckConstraint("sli_kind IN ('ratio', 'latency')", name=op.f("ck_slo_specs_sli_kind")),
        sa.ForeignKeyConstraint(["service_id"], ["services.id"],
                                name=op.f("fk_slo_specs_service_id_services"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_slo_specs")),
        sa.UniqueConstraint("service_id", "name", name="uq_slo_specs_service_name"),
    )
    op.create_index(op.f("ix_slo_specs_service_id"), "slo_specs", ["service_id"])
    for table, column in (("slo_samples", "minute"), ("slo_sample_hours", "hour"),
                          ("slo_sample_days", "day")):
        op.create_table(
            table,
            sa.Column("slo_id", sa.Integer(), nullable=False),
            sa.Column(column, sa.DateTime(timezone=True), nullable=False),
            sa.Column("good", sa.BigInteger(), nullable=False),
            sa.Column("total", sa.BigInteger(), nullable=False),
            sa.ForeignKeyConstraint(["slo_id"], ["slo_specs.id"],
                                    name=op.f(f"fk_{table}_slo_id_slo_specs"), ondelete="CASCADE"),
            sa.PrimaryKeyConstraint("slo_id", column, name=op.f(f"pk_{table}")),
        )
    op.create_table(
        "slo_scrape_cursors",
        sa.Column("slo_id", sa.Integer(), nullable=False),
        sa.Column("scraped_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("good_series", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("total_series", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.ForeignKeyConstraint(["slo_id"], ["slo_specs.id"],
                                name=op.f("fk_slo_scrape_cursors_slo_id_slo_specs"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("slo_id", name=op.f("pk_slo_scrape_cursors")),
    )
    op.create_table(
        "slo_policy_states",
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("state IN ('healthy', 'at_risk', 'exhausted')",
                           name=op.f("ck_slo_policy_states_state")),
        sa.ForeignKeyConstraint(["service_id"], ["services.id"],
                                name=op.f("fk_slo_policy_states_service_id_services"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("service_id", name=op.f("pk_slo_policy_states")),
    )
    op.create_table(
        "slo_policy_overrides",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("justification", sa.Text(), nullable=False),
        sa.Column("created_by_email", sa.String(length=254), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_by_email", sa.String(length=254), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"),
                  nullable=False),
        sa.CheckConstraint("expires_at > starts_at",
                           name=op.f("ck_slo_policy_overrides_expiry_after_start")),
        sa.CheckConstraint("length(justification) >= 20",
                           name=op.f("ck_slo_policy_overrides_justification")),
        sa.ForeignKeyConstraint(["service_id"], ["services.id"],
                                name=op.f("fk_slo_policy_overrides_service_id_services"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_slo_policy_overrides")),
    )
    op.create_index(op.f("ix_slo_policy_overrides_service_id"), "slo_policy_overrides",
                    ["service_id"])


def downgrade() -> None:
    op.drop_table("slo_policy_overrides")
    op.drop_table("slo_policy_states")
    op.drop_table("slo_scrape_cursors")
    op.drop_table("slo_sample_days")
    op.drop_table("slo_sample_hours")
    op.drop_table("slo_samples")
    op.drop_table("slo_specs")
