"""selfservice: environments, jobs, job logs

Revision ID: 0400_selfservice
Revises: 0001
Create Date: 2026-11-21 07:40:00
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

revision = "0400_selfservice"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('selfservice_environments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('template', sa.String(length=40), nullable=False),
    sa.Column('tier', sa.String(length=10), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=False),
    sa.Column('tags', postgresql.JSONB(astext_type=Text()), nullable=False),
    sa.Column('variables', postgresql.JSONB(astext_type=Text()), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('outputs', postgresql.JSONB(astext_type=Text()), nullable=False),
    sa.Column('destroyed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("status IN ('requested','provisioning','active','destroying','destroyed','failed')", name=op.f('ck_selfservice_environments_status')),
    sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_selfservice_environments_owner_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_selfservice_environments'))
    )
    op.create_index(op.f('ix_selfservice_environments_expires_at'), 'selfservice_environments', ['expires_at'], unique=False)
    op.create_index(op.f('ix_selfservice_environments_owner_id'), 'selfservice_environments', ['owner_id'], unique=False)
    op.create_index('uq_selfservice_environments_live_name', 'selfservice_environments', ['name'], unique=True, postgresql_where="status <> 'destroyed'")
    op.create_table('selfservice_jobs',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('template', sa.String(length=40), nullable=False),
    sa.Column('action', sa.String(length=20), nullable=False),
    sa.Column('tier', sa.String(length=10), nullable=False),
    sa.Column('target', sa.String(length=120), nullable=False),
    sa.Column('params', postgresql.JSONB(astext_type=Text()), nullable=False),
    sa.Column('gate', sa.String(length=10), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('phase', sa.String(length=10), nullable=False),
    sa.Column('status_reason', sa.Text(), nullable=True),
    sa.Column('environment_id', sa.Integer(), nullable=True),
    sa.Column('service_id', sa.Integer(), nullable=True),
    sa.Column('retry_of_id', sa.UUID(), nullable=True),
    sa.Column('requested_by_id', sa.Integer(), nullable=False),
    sa.Column('approved_by_id', sa.Integer(), nullable=True),
    sa.Column('approved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('cancelled_by_id', sa.Integer(), nullable=True),
    sa.Column('cancel_requested', sa.Boolean(), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('planned_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('heartbeat_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('worker', sa.String(length=200), nullable=True),
    sa.Column('timeout_seconds', sa.Integer(), nullable=False),
    sa.Column('plan', postgresql.JSONB(astext_type=Text()), nullable=False),
    sa.Column('result', postgresql.JSONB(astext_type=Text()), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("gate IN ('confirm','approval','auto')", name=op.f('ck_selfservice_jobs_gate')),
    sa.CheckConstraint("phase IN ('plan','apply')", name=op.f('ck_selfservice_jobs_phase')),
    sa.CheckConstraint("status IN ('queued','awaiting_approval','running','succeeded','failed','cancelled')", name=op.f('ck_selfservice_jobs_status')),
    sa.CheckConstraint('approved_by_id IS NULL OR approved_by_id <> requested_by_id', name=op.f('ck_selfservice_jobs_approver_is_not_requester')),
    sa.ForeignKeyConstraint(['approved_by_id'], ['users.id'], name=op.f('fk_selfservice_jobs_approved_by_id_users')),
    sa.ForeignKeyConstraint(['cancelled_by_id'], ['users.id'], name=op.f('fk_selfservice_jobs_cancelled_by_id_users')),
    sa.ForeignKeyConstraint(['environment_id'], ['selfservice_environments.id'], name=op.f('fk_selfservice_jobs_environment_id_selfservice_environments')),
    sa.ForeignKeyConstraint(['requested_by_id'], ['users.id'], name=op.f('fk_selfservice_jobs_requested_by_id_users')),
    sa.ForeignKeyConstraint(['retry_of_id'], ['selfservice_jobs.id'], name=op.f('fk_selfservice_jobs_retry_of_id_selfservice_jobs')),
    sa.ForeignKeyConstraint(['service_id'], ['services.id'], name=op.f('fk_selfservice_jobs_service_id_services')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_selfservice_jobs'))
    )
    op.create_index(op.f('ix_selfservice_jobs_environment_id'), 'selfservice_jobs', ['environment_id'], unique=False)
    op.create_index(op.f('ix_selfservice_jobs_requested_by_id'), 'selfservice_jobs', ['requested_by_id'], unique=False)
    op.create_index(op.f('ix_selfservice_jobs_service_id'), 'selfservice_jobs', ['service_id'], unique=False)
    op.create_index('ix_selfservice_jobs_status_heartbeat', 'selfservice_jobs', ['status', 'heartbeat_at'], unique=False)
    op.create_index(op.f('ix_selfservice_jobs_target'), 'selfservice_jobs', ['target'], unique=False)
    op.create_index(op.f('ix_selfservice_jobs_template'), 'selfservice_jobs', ['template'], unique=False)
    op.create_table('selfservice_job_logs',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('job_id', sa.UUID(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('line', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['job_id'], ['selfservice_jobs.id'], name=op.f('fk_selfservice_job_logs_job_id_selfservice_jobs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_selfservice_job_logs')),
    sa.UniqueConstraint('job_id', 'seq', name='uq_selfservice_job_logs_job_seq')
    )


def downgrade() -> None:
    op.drop_table("selfservice_job_logs")
    op.drop_table("selfservice_jobs")
    op.drop_table("selfservice_environments")
