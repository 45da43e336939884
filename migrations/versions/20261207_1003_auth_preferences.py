"""auth: per-user interface preferences

Revision ID: 1003_auth_preferences
Revises: 1002_oncall_chat
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

revision = '1003_auth_preferences'
down_revision = '1002_oncall_chat'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # "auto" follows the device's prefers-color-scheme; the server default keeps every
    # existing account on it.
    op.add_column('users', sa.Column('theme', sa.String(length=5), server_default='auto',
                                     nullable=False))
    op.create_check_constraint(op.f('ck_users_theme'), 'users',
                               "theme IN ('auto', 'light', 'dark')")


def downgrade() -> None:
    op.drop_constraint(op.f('ck_users_theme'), 'users', type_='check')
    op.drop_column('users', 'theme')
