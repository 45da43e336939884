"""oncall: the portal's ledger of the silences it created

Revision ID: 0961_oncall_silence_ledger
Revises: 0960_oncall_silence_notices
Create Date: 2026-12-07
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0961_oncall_silence_ledger'
down_revision = '0960_oncall_silence_notices'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('oncall_silence_ledger',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('silence_id', sa.String(length=64), nullable=False),
    sa.Column('matchers', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=320), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expired_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('recreated_from', sa.String(length=64), nullable=True),
    sa.Column('recreated_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_oncall_silence_ledger')),
    sa.UniqueConstraint('silence_id', name=op.f('uq_oncall_silence_ledger_silence_id'))
    )
    op.create_index('ix_oncall_silence_ledger_ends_at', 'oncall_silence_ledger', ['ends_at'],
                    unique=False)


def downgrade() -> None:
    op.drop_index('ix_oncall_silence_ledger_ends_at', table_name='oncall_silence_ledger')
    op.drop_table('oncall_silence_ledger')
