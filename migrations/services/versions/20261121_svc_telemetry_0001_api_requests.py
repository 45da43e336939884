"""telemetry schema: per-tenant API request counts by service and hour (the tenant dashboard's request volume and error rate).

Revision ID: svc_telemetry_0001
Revises:
Create Date: 2026-11-21
"""
from alembic import op
import sqlalchemy as sa

revision = 'svc_telemetry_0001'
down_revision = None
branch_labels = ('telemetry',)
depends_on = None


def upgrade() -> None:
    op.execute("CREATE SCHEMA IF NOT EXISTS telemetry")
    op.create_table('api_requests',
    sa.Column('tenant_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('hour', sa.DateTime(timezone=True), nullable=False),
    sa.Column('service', sa.String(length=40), nullable=False),
    sa.Column('requests', sa.BigInteger(), nullable=False),
    sa.Column('client_errors', sa.BigInteger(), nullable=False),
    sa.Column('server_errors', sa.BigInteger(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('tenant_id', 'hour', 'service'),
    schema='telemetry'
    )
    op.create_index('ix_api_requests_updated_at', 'api_requests', ['updated_at'], unique=False, schema='telemetry')


def downgrade() -> None:
    op.drop_index('ix_api_requests_updated_at', table_name='api_requests', schema='telemetry')
    op.drop_table('api_requests', schema='telemetry')
    op.execute("DROP SCHEMA IF EXISTS telemetry")
