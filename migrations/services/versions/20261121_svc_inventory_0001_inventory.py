"""inventory schema: stock per tenant/SKU/warehouse, reservations and the inbox of the inventory service.

Revision ID: svc_inventory_0001
Revises:
Create Date: 2026-11-21
"""
from alembic import op
import sqlalchemy as sa

revision = 'svc_inventory_0001'
down_revision = None
branch_labels = ('inventory',)
depends_on = None


def upgrade() -> None:
    op.execute("CREATE SCHEMA IF NOT EXISTS inventory")
    op.create_table('processed_messages',
    sa.Column('message_id', sa.String(length=120), nullable=False),
    sa.Column('processed_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('message_id'),
    schema='inventory'
    )
    op.create_table('tenants',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('slug', sa.String(length=63), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('registered_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('slug'),
    schema='inventory'
    )
    op.create_table('reservations',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('reference', sa.String(length=64), nullable=False),
    sa.Column('sku', sa.String(length=64), nullable=False),
    sa.Column('warehouse', sa.String(length=63), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), server_default='reserved', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("status IN ('reserved', 'released', 'consumed')", name='ck_reservations_status'),
    sa.CheckConstraint('quantity > 0', name='ck_reservations_quantity'),
    sa.ForeignKeyConstraint(['tenant_id'], ['inventory.tenants.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('tenant_id', 'reference', 'sku', name='uq_reservations_reference_sku'),
    schema='inventory'
    )
    op.create_table('stock',
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('sku', sa.String(length=64), nullable=False),
    sa.Column('warehouse', sa.String(length=63), nullable=False),
    sa.Column('on_hand', sa.Integer(), nullable=False),
    sa.Column('reserved', sa.Integer(), server_default='0', nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('reserved >= 0 AND reserved <= on_hand', name='ck_stock_reserved'),
    sa.ForeignKeyConstraint(['tenant_id'], ['inventory.tenants.id'], ),
    sa.PrimaryKeyConstraint('tenant_id', 'sku', 'warehouse', name='pk_stock'),
    schema='inventory'
    )


def downgrade() -> None:
    op.execute("DROP SCHEMA inventory CASCADE")
