"""tenants: daily per-tenant API request rollup (from the services' telemetry.api_requests)

Revision ID: 0910_tenants_api_requests
Revises: 0900
Create Date: 2026-11-21
"""
from alembic import op
import sqlalchemy as sa

revision = '0910_tenants_api_requests'
down_revision = '0900'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('tenants_daily_api_requests',
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('service', sa.String(length=40), nullable=False),
    sa.Column('requests', sa.BigInteger(), nullable=False),
    sa.Column('client_errors', sa.BigInteger(), nullable=False),
    sa.Column('server_errors', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_tenants_daily_api_requests_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', 'day', 'service', name=op.f('pk_tenants_daily_api_requests'))
    )


def downgrade() -> None:
    op.drop_table('tenants_daily_api_requests')
