"""incidents: index self-service jobs by catalog entry and the moment they changed things,
for the suspect-change panel of incident pages

Revision ID: 0993_incidents_suspects
Revises: 0992_auth_tokens_scim
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

revision = '0993_incidents_suspects'
down_revision = '0992_auth_tokens_scim'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_selfservice_jobs_service_changed_at', 'selfservice_jobs',
                    ['service_id', sa.text('coalesce(finished_at, started_at, created_at)')])


def downgrade() -> None:
    op.drop_index('ix_selfservice_jobs_service_changed_at', table_name='selfservice_jobs')
