"""tenants: dashboard rollups (daily orders, fulfillment histograms, low stock), rollup
watermarks, reports and report schedules

Revision ID: 0700_tenants
Revises: 0001
Create Date: 2026-11-21
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0700_tenants'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('tenants_rollup_watermarks',
    sa.Column('source', sa.String(length=63), nullable=False),
    sa.Column('watermark', sa.DateTime(timezone=True), nullable=True),
    sa.Column('refreshed_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('source', name=op.f('pk_tenants_rollup_watermarks'))
    )
    op.create_table('tenants_daily_fulfillment',
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('warehouse', sa.String(length=63), nullable=False),
    sa.Column('shipments', sa.Integer(), nullable=False),
    sa.Column('within_sla', sa.Integer(), nullable=False),
    sa.Column('buckets', postgresql.ARRAY(sa.Integer()), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_tenants_daily_fulfillment_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', 'day', 'warehouse', name=op.f('pk_tenants_daily_fulfillment'))
    )
    op.create_table('tenants_daily_orders',
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('warehouse', sa.String(length=63), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('orders', sa.Integer(), nullable=False),
    sa.Column('units', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_tenants_daily_orders_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', 'day', 'warehouse', 'status', name=op.f('pk_tenants_daily_orders'))
    )
    op.create_table('tenants_low_stock',
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('sku', sa.String(length=64), nullable=False),
    sa.Column('warehouse', sa.String(length=63), nullable=False),
    sa.Column('on_hand', sa.Integer(), nullable=False),
    sa.Column('reserved', sa.Integer(), nullable=False),
    sa.Column('available', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_tenants_low_stock_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', 'sku', 'warehouse', name=op.f('pk_tenants_low_stock'))
    )
    op.create_table('tenants_report_schedules',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('fmt', sa.String(length=4), nullable=False),
    sa.Column('cadence', sa.String(length=10), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('next_run_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=254), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("cadence IN ('weekly', 'monthly')", name=op.f('ck_tenants_report_schedules_cadence')),
    sa.CheckConstraint("fmt IN ('csv', 'pdf')", name=op.f('ck_tenants_report_schedules_fmt')),
    sa.CheckConstraint("kind IN ('orders', 'fulfillment', 'inventory', 'usage')", name=op.f('ck_tenants_report_schedules_kind')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_tenants_report_schedules_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tenants_report_schedules'))
    )
    op.create_index(op.f('ix_tenants_report_schedules_next_run_at'), 'tenants_report_schedules', ['next_run_at'], unique=False)
    op.create_index(op.f('ix_tenants_report_schedules_tenant_id'), 'tenants_report_schedules', ['tenant_id'], unique=False)
    op.create_table('tenants_reports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('fmt', sa.String(length=4), nullable=False),
    sa.Column('date_from', sa.Date(), nullable=False),
    sa.Column('date_to', sa.Date(), nullable=False),
    sa.Column('warehouse', sa.String(length=63), nullable=True),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('rows_written', sa.BigInteger(), nullable=False),
    sa.Column('expected_rows', sa.BigInteger(), nullable=True),
    sa.Column('size_bytes', sa.BigInteger(), nullable=True),
    sa.Column('truncated', sa.Boolean(), nullable=False),
    sa.Column('object_key', sa.String(length=400), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('requested_by', sa.String(length=254), nullable=True),
    sa.Column('schedule_id', sa.Integer(), nullable=True),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("fmt IN ('csv', 'pdf')", name=op.f('ck_tenants_reports_fmt')),
    sa.CheckConstraint("kind IN ('orders', 'fulfillment', 'inventory', 'usage')", name=op.f('ck_tenants_reports_kind')),
    sa.CheckConstraint("status IN ('queued', 'running', 'succeeded', 'failed')", name=op.f('ck_tenants_reports_status')),
    sa.CheckConstraint('date_from <= date_to', name=op.f('ck_tenants_reports_range')),
    sa.ForeignKeyConstraint(['schedule_id'], ['tenants_report_schedules.id'], name=op.f('fk_tenants_reports_schedule_id_tenants_report_schedules'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_tenants_reports_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tenants_reports'))
    )
    op.create_index('ix_tenants_reports_tenant_created', 'tenants_reports', ['tenant_id', 'created_at'], unique=False)


def downgrade() -> None:
    op.drop_table('tenants_reports')
    op.drop_table('tenants_report_schedules')
    op.drop_table('tenants_low_stock')
    op.drop_table('tenants_daily_orders')
    op.drop_table('tenants_daily_fulfillment')
    op.drop_table('tenants_rollup_watermarks')
