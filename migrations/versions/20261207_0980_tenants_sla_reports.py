"""tenants: monthly SLA reports, one per tenant and month

Revision ID: 0980_tenants_sla_reports
Revises: 0970_statuspage
Create Date: 2026-12-07
"""
from alembic import op
import sqlalchemy as sa

revision = '0980_tenants_sla_reports'
down_revision = '0970_statuspage'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('tenants_sla_reports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('availability', sa.Numeric(precision=9, scale=5), nullable=True),
    sa.Column('downtime_minutes', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('target', sa.Numeric(precision=6, scale=3), nullable=False),
    sa.Column('met', sa.Boolean(), nullable=False),
    sa.Column('credit_percent', sa.Numeric(precision=5, scale=2), nullable=False),
    sa.Column('credit_cents', sa.Integer(), nullable=True),
    sa.Column('incidents', sa.Integer(), nullable=False),
    sa.Column('pdf_key', sa.String(length=400), nullable=False),
    sa.Column('csv_key', sa.String(length=400), nullable=False),
    sa.Column('emailed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'),
              nullable=False),
    sa.CheckConstraint('EXTRACT(DAY FROM month) = 1',
                       name=op.f('ck_tenants_sla_reports_month_start')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'],
                            name=op.f('fk_tenants_sla_reports_tenant_id_tenants'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tenants_sla_reports')),
    sa.UniqueConstraint('tenant_id', 'month', name='uq_tenants_sla_reports_tenant_month')
    )


def downgrade() -> None:
    op.drop_table('tenants_sla_reports')
