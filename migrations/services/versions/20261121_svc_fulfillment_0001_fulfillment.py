"""fulfillment schema: shipments, the outbox and the inbox of the fulfillment service.

Revision ID: svc_fulfillment_0001
Revises:
Create Date: 2026-11-21
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = 'svc_fulfillment_0001'
down_revision = None
branch_labels = ('fulfillment',)
depends_on = None


def upgrade() -> None:
    op.execute("CREATE SCHEMA IF NOT EXISTS fulfillment")
    op.create_table('outbox',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('exchange', sa.String(length=63), nullable=False),
    sa.Column('routing_key', sa.String(length=120), nullable=False),
    sa.Column('payload', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    schema='fulfillment'
    )
    op.create_index('ix_outbox_unpublished', 'outbox', ['id'], unique=False, schema='fulfillment', postgresql_where='published_at IS NULL')
    op.create_table('shipments',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('tenant', sa.String(length=63), nullable=False),
    sa.Column('order_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('warehouse', sa.String(length=63), nullable=False),
    sa.Column('carrier', sa.String(length=20), nullable=False),
    sa.Column('tracking_number', sa.String(length=40), nullable=True),
    sa.Column('label_key', sa.String(length=300), nullable=True),
    sa.Column('status', sa.String(length=20), server_default='label_pending', nullable=False),
    sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('confirmed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("status IN ('label_pending', 'shipped', 'delivered', 'failed')", name='ck_shipments_status'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('order_id'),
    schema='fulfillment'
    )
    op.create_index(op.f('ix_fulfillment_shipments_tenant_id'), 'shipments', ['tenant_id'], unique=False, schema='fulfillment')


def downgrade() -> None:
    op.execute("DROP SCHEMA fulfillment CASCADE")
