"""orders schema: orders, their lines, the transactional outbox and the inbox of the order service.

Revision ID: svc_orders_0001
Revises:
Create Date: 2026-11-21
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = 'svc_orders_0001'
down_revision = None
branch_labels = ('orders',)
depends_on = None


def upgrade() -> None:
    op.execute("CREATE SCHEMA IF NOT EXISTS orders")
    op.create_table('outbox',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('exchange', sa.String(length=63), nullable=False),
    sa.Column('routing_key', sa.String(length=120), nullable=False),
    sa.Column('payload', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    schema='orders'
    )
    op.create_index('ix_outbox_unpublished', 'outbox', ['id'], unique=False, schema='orders', postgresql_where='published_at IS NULL')
    op.create_table('processed_messages',
    sa.Column('message_id', sa.String(length=120), nullable=False),
    sa.Column('processed_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('message_id'),
    schema='orders'
    )
    op.create_table('tenants',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('slug', sa.String(length=63), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('registered_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('slug'),
    schema='orders'
    )
    op.create_table('orders',
    sa.Column('id', sa.UUID(as_uuid=False), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), server_default='pending', nullable=False),
    sa.Column('customer_ref', sa.String(length=64), nullable=True),
    sa.Column('idempotency_key', sa.String(length=100), nullable=True),
    sa.Column('request_hash', sa.String(length=64), nullable=True),
    sa.Column('total_quantity', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("status IN ('pending', 'confirmed', 'fulfilled', 'canceled')", name='ck_orders_status'),
    sa.CheckConstraint('total_quantity > 0', name='ck_orders_total_quantity'),
    sa.ForeignKeyConstraint(['tenant_id'], ['orders.tenants.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('tenant_id', 'idempotency_key', name='uq_orders_tenant_idempotency_key'),
    schema='orders'
    )
    op.create_table('order_lines',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('order_id', sa.UUID(as_uuid=False), nullable=False),
    sa.Column('sku', sa.String(length=64), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('warehouse', sa.String(length=63), nullable=True),
    sa.CheckConstraint('quantity > 0', name='ck_order_lines_quantity'),
    sa.ForeignKeyConstraint(['order_id'], ['orders.orders.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    schema='orders'
    )
    op.create_index('ix_orders_tenant_created', 'orders', ['tenant_id', 'created_at'], unique=False, schema='orders')
    op.create_index(op.f('ix_orders_order_lines_order_id'), 'order_lines', ['order_id'], unique=False, schema='orders')


def downgrade() -> None:
    op.execute("DROP SCHEMA orders CASCADE")
