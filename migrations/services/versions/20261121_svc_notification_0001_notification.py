"""notification schema: templates, tenant contacts and the notification log of the notification service.

Revision ID: svc_notification_0001
Revises:
Create Date: 2026-11-21
"""
from alembic import op
import sqlalchemy as sa

revision = 'svc_notification_0001'
down_revision = None
branch_labels = ('notification',)
depends_on = None


def upgrade() -> None:
    op.execute("CREATE SCHEMA IF NOT EXISTS notification")
    op.create_table('tenants',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('slug', sa.String(length=63), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('registered_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('slug'),
    schema='notification'
    )
    op.create_table('contacts',
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=True),
    sa.Column('webhook_url', sa.String(length=2048), nullable=True),
    sa.ForeignKeyConstraint(['tenant_id'], ['notification.tenants.id'], ),
    sa.PrimaryKeyConstraint('tenant_id'),
    schema='notification'
    )
    op.create_table('notifications',
    sa.Column('id', sa.UUID(as_uuid=False), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=10), nullable=False),
    sa.Column('template', sa.String(length=64), nullable=False),
    sa.Column('recipient', sa.String(length=2048), nullable=False),
    sa.Column('dedupe_key', sa.String(length=200), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('relay', sa.String(length=300), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['tenant_id'], ['notification.tenants.id'], ),
    sa.PrimaryKeyConstraint('id'),
    schema='notification'
    )
    op.create_index('ix_notifications_dedupe', 'notifications', ['tenant_id', 'dedupe_key'], unique=False, schema='notification', postgresql_where='dedupe_key IS NOT NULL')
    op.create_index('ix_notifications_tenant_created', 'notifications', ['tenant_id', 'created_at'], unique=False, schema='notification')
    op.create_table('templates',
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('subject', sa.String(length=300), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['notification.tenants.id'], ),
    sa.PrimaryKeyConstraint('tenant_id', 'name'),
    schema='notification'
    )


def downgrade() -> None:
    op.execute("DROP SCHEMA notification CASCADE")
