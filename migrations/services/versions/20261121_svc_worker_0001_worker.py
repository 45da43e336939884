"""worker schema: jobs (exports, reports), the outbox and the inbox of the worker service.

Revision ID: svc_worker_0001
Revises:
Create Date: 2026-11-21
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = 'svc_worker_0001'
down_revision = None
branch_labels = ('worker',)
depends_on = None


def upgrade() -> None:
    op.execute("CREATE SCHEMA IF NOT EXISTS worker")
    op.create_table('outbox',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('exchange', sa.String(length=63), nullable=False),
    sa.Column('routing_key', sa.String(length=120), nullable=False),
    sa.Column('payload', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    schema='worker'
    )
    op.create_index('ix_outbox_unpublished', 'outbox', ['id'], unique=False, schema='worker', postgresql_where='published_at IS NULL')
    op.create_table('processed_messages',
    sa.Column('message_id', sa.String(length=120), nullable=False),
    sa.Column('processed_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('message_id'),
    schema='worker'
    )
    op.create_table('tenants',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('slug', sa.String(length=63), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('registered_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('slug'),
    schema='worker'
    )
    op.create_table('jobs',
    sa.Column('id', sa.UUID(as_uuid=False), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('params', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False),
    sa.Column('status', sa.String(length=20), server_default='queued', nullable=False),
    sa.Column('object_key', sa.String(length=300), nullable=True),
    sa.Column('bytes_written', sa.BigInteger(), nullable=True),
    sa.Column('rows_written', sa.Integer(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("kind IN ('tenant_export', 'report')", name='ck_jobs_kind'),
    sa.CheckConstraint("status IN ('queued', 'running', 'succeeded', 'failed', 'skipped')", name='ck_jobs_status'),
    sa.ForeignKeyConstraint(['tenant_id'], ['worker.tenants.id'], ),
    sa.PrimaryKeyConstraint('id'),
    schema='worker'
    )
    op.create_index(op.f('ix_worker_jobs_tenant_id'), 'jobs', ['tenant_id'], unique=False, schema='worker')


def downgrade() -> None:
    op.execute("DROP SCHEMA worker CASCADE")
