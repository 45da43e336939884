"""slo: maintenance exclusions (one-off or recurring windows that cost no error budget)

Revision ID: 0950_slo_exclusions
Revises: 0940_catalog_entities
Create Date: 2026-12-07
"""
from alembic import op
import sqlalchemy as sa

revision = '0950_slo_exclusions'
down_revision = '0940_catalog_entities'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('slo_exclusions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slo_id', sa.Integer(), nullable=False),
    sa.Column('starts_local', sa.DateTime(timezone=False), nullable=False),
    sa.Column('time_zone', sa.String(length=64), nullable=False),
    sa.Column('duration_minutes', sa.Integer(), nullable=False),
    sa.Column('rrule', sa.Text(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('created_by_email', sa.String(length=254), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('duration_minutes BETWEEN 1 AND 129600', name=op.f('ck_slo_exclusions_duration_minutes')),
    sa.CheckConstraint('length(reason) BETWEEN 3 AND 500', name=op.f('ck_slo_exclusions_reason')),
    sa.ForeignKeyConstraint(['slo_id'], ['slo_specs.id'], name=op.f('fk_slo_exclusions_slo_id_slo_specs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_slo_exclusions'))
    )
    op.create_index(op.f('ix_slo_exclusions_slo_id'), 'slo_exclusions', ['slo_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_slo_exclusions_slo_id'), table_name='slo_exclusions')
    op.drop_table('slo_exclusions')
