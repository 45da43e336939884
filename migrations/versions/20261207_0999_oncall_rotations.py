"""oncall: layered rotations and import mappings

Revision ID: 0999_oncall_rotations
Revises: 0998_selfservice_gamedays
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0999_oncall_rotations'
down_revision = '0998_selfservice_gamedays'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'oncall_rotations',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('schedule_id', sa.Integer(),
                  sa.ForeignKey('oncall_schedules.id', ondelete='CASCADE'), nullable=False),
        sa.Column('name', sa.String(200), nullable=False),
        sa.Column('level', sa.Integer(), nullable=False),
        sa.Column('time_zone', sa.String(64), nullable=False),
        sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('frequency', sa.String(10), nullable=False),
        sa.Column('interval', sa.Integer(), nullable=False),
        sa.Column('duration_seconds', sa.Integer(), nullable=True),
        sa.Column('until', sa.DateTime(timezone=True), nullable=True),
        sa.Column('windows', postgresql.JSONB(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(),
                  nullable=False),
        sa.CheckConstraint("frequency IN ('hourly', 'daily', 'weekly', 'monthly')",
                           name='ck_oncall_rotations_frequency'),
        sa.CheckConstraint('interval >= 1', name='ck_oncall_rotations_interval'),
        sa.CheckConstraint('duration_seconds IS NULL OR duration_seconds > 0',
                           name='ck_oncall_rotations_duration'),
    )
    op.create_index('ix_oncall_rotations_schedule_id', 'oncall_rotations', ['schedule_id'])
    op.create_table(
        'oncall_rotation_members',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('rotation_id', sa.Integer(),
                  sa.ForeignKey('oncall_rotations.id', ondelete='CASCADE'), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), sa.ForeignKey('users.id', ondelete='CASCADE'),
                  nullable=False),
        sa.UniqueConstraint('rotation_id', 'position', 'user_id',
                            name='uq_oncall_rotation_members_slot'),
    )
    op.create_index('ix_oncall_rotation_members_rotation_id', 'oncall_rotation_members',
                    ['rotation_id'])
    op.create_index('ix_oncall_rotation_members_user_id', 'oncall_rotation_members',
                    ['user_id'])
    op.create_table(
        'oncall_import_mappings',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('source', sa.String(40), nullable=False),
        sa.Column('kind', sa.String(40), nullable=False),
        sa.Column('external_id', sa.String(200), nullable=False),
        sa.Column('local_id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(),
                  nullable=False),
        sa.UniqueConstraint('source', 'kind', 'external_id',
                            name='uq_oncall_import_mappings_key'),
    )


def downgrade() -> None:
    op.drop_table('oncall_import_mappings')
    op.drop_index('ix_oncall_rotation_members_user_id', 'oncall_rotation_members')
    op.drop_index('ix_oncall_rotation_members_rotation_id', 'oncall_rotation_members')
    op.drop_table('oncall_rotation_members')
    op.drop_index('ix_oncall_rotations_schedule_id', 'oncall_rotations')
    op.drop_table('oncall_rotations')
