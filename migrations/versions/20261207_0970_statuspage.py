"""statuspage: maintenance windows, subscriptions, notices and told component states

Revision ID: 0970_statuspage
Revises: 0961_oncall_silence_ledger
Create Date: 2026-12-07
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0970_statuspage'
down_revision = '0961_oncall_silence_ledger'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('statuspage_maintenances',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('service_slugs', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by_email', sa.String(length=254), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'),
              nullable=False),
    sa.CheckConstraint('ends_at > starts_at', name=op.f('ck_statuspage_maintenances_window')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_statuspage_maintenances'))
    )
    op.create_index('ix_statuspage_maintenances_window', 'statuspage_maintenances',
                    ['starts_at', 'ends_at'], unique=False)
    op.create_table('statuspage_subscriptions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=8), nullable=False),
    sa.Column('target', sa.String(length=500), nullable=False),
    sa.Column('component', sa.String(length=63), nullable=False),
    sa.Column('confirmed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('unsubscribed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'),
              nullable=False),
    sa.CheckConstraint("channel IN ('email', 'webhook')",
                       name=op.f('ck_statuspage_subscriptions_channel')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'],
                            name=op.f('fk_statuspage_subscriptions_tenant_id_tenants'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_statuspage_subscriptions')),
    sa.UniqueConstraint('tenant_id', 'channel', 'target', 'component',
                        name='uq_statuspage_subscriptions_target')
    )
    op.create_index(op.f('ix_statuspage_subscriptions_tenant_id'), 'statuspage_subscriptions',
                    ['tenant_id'], unique=False)
    op.create_table('statuspage_notices',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('subscription_id', sa.Integer(), nullable=False),
    sa.Column('event_key', sa.String(length=200), nullable=False),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('payload', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'),
              nullable=False),
    sa.CheckConstraint("status IN ('pending', 'sent', 'failed')",
                       name=op.f('ck_statuspage_notices_status')),
    sa.ForeignKeyConstraint(['subscription_id'], ['statuspage_subscriptions.id'],
                            name=op.f('fk_statuspage_notices_subscription_id_'
                                      'statuspage_subscriptions'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_statuspage_notices')),
    sa.UniqueConstraint('subscription_id', 'event_key', name='uq_statuspage_notices_event')
    )
    op.create_index('ix_statuspage_notices_pending', 'statuspage_notices', ['status', 'id'],
                    unique=False)
    op.create_table('statuspage_component_states',
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('service_slug', sa.String(length=63), nullable=False),
    sa.Column('state', sa.String(length=24), nullable=False),
    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'],
                            name=op.f('fk_statuspage_component_states_tenant_id_tenants'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', 'service_slug',
                            name=op.f('pk_statuspage_component_states'))
    )


def downgrade() -> None:
    op.drop_table('statuspage_component_states')
    op.drop_index('ix_statuspage_notices_pending', table_name='statuspage_notices')
    op.drop_table('statuspage_notices')
    op.drop_index(op.f('ix_statuspage_subscriptions_tenant_id'),
                  table_name='statuspage_subscriptions')
    op.drop_table('statuspage_subscriptions')
    op.drop_index('ix_statuspage_maintenances_window', table_name='statuspage_maintenances')
    op.drop_table('statuspage_maintenances')
