"""auth: per-user session version, bumped to end every session of a user

Revision ID: 0930_auth_session_version
Revises: 0920_slo_openslo
Create Date: 2026-12-07
"""
from alembic import op
import sqlalchemy as sa

revision = '0930_auth_session_version'
down_revision = '0920_slo_openslo'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('users', sa.Column('session_version', sa.Integer(), server_default='0',
                                     nullable=False))


def downgrade() -> None:
    op.drop_column('users', 'session_version')
