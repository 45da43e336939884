"""orders schema: index orders(updated_at) for the portal's incremental rollup refresh, which scans `WHERE updated_at > :since`.

Revision ID: svc_orders_0002
Revises: svc_orders_0001
Create Date: 2026-11-21
"""
from alembic import op

revision = 'svc_orders_0002'
down_revision = 'svc_orders_0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # CONCURRENTLY: the order service keeps writing while a large table is indexed. It
    # cannot run inside a transaction, hence the autocommit block.
    with op.get_context().autocommit_block():
        op.create_index('ix_orders_updated_at', 'orders', ['updated_at'], unique=False,
                        schema='orders', postgresql_concurrently=True, if_not_exists=True)


def downgrade() -> None:
    with op.get_context().autocommit_block():
        op.drop_index('ix_orders_updated_at', table_name='orders', schema='orders',
                      postgresql_concurrently=True, if_exists=True)
