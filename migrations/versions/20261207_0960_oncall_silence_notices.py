"""oncall: notices sent before a silence ends, one per silence and end time

Revision ID: 0960_oncall_silence_notices
Revises: 0950_slo_exclusions
Create Date: 2026-12-07
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0960_oncall_silence_notices'
down_revision = '0950_slo_exclusions'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('oncall_silence_expiry_notices',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('silence_id', sa.String(length=64), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('recipient', sa.String(length=320), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('payload', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_oncall_silence_expiry_notices')),
    sa.UniqueConstraint('silence_id', 'ends_at', name='uq_oncall_silence_expiry_notices_silence_end')
    )
    op.create_index('ix_oncall_silence_expiry_notices_pending', 'oncall_silence_expiry_notices',
                    ['status'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_oncall_silence_expiry_notices_pending',
                  table_name='oncall_silence_expiry_notices')
    op.drop_table('oncall_silence_expiry_notices')
