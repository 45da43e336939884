"""selfservice: approval decisions with comments, job notifications, drift inbox

Revision ID: 0990_selfservice_review
Revises: 0980_tenants_sla_reports
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0990_selfservice_review'
down_revision = '0980_tenants_sla_reports'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('selfservice_job_decisions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('job_id', sa.UUID(), nullable=False),
    sa.Column('decision', sa.String(length=10), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), server_default=sa.text('now()'),
              nullable=False),
    sa.CheckConstraint("decision IN ('approve','reject')",
                       name=op.f('ck_selfservice_job_decisions_decision')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'],
                            name=op.f('fk_selfservice_job_decisions_decided_by_id_users')),
    sa.ForeignKeyConstraint(['job_id'], ['selfservice_jobs.id'],
                            name=op.f('fk_selfservice_job_decisions_job_id_selfservice_jobs'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_selfservice_job_decisions'))
    )
    op.create_index(op.f('ix_selfservice_job_decisions_job_id'), 'selfservice_job_decisions',
                    ['job_id'], unique=False)
    op.create_table('selfservice_notifications',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('job_id', sa.UUID(), nullable=False),
    sa.Column('event', sa.String(length=20), nullable=False),
    sa.Column('channel', sa.String(length=10), nullable=False),
    sa.Column('recipient', sa.String(length=320), nullable=False),
    sa.Column('subject', sa.String(length=300), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'),
              nullable=False),
    sa.CheckConstraint("channel IN ('email','webhook')",
                       name=op.f('ck_selfservice_notifications_channel')),
    sa.CheckConstraint("status IN ('pending','sent','failed')",
                       name=op.f('ck_selfservice_notifications_status')),
    sa.ForeignKeyConstraint(['job_id'], ['selfservice_jobs.id'],
                            name=op.f('fk_selfservice_notifications_job_id_selfservice_jobs'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_selfservice_notifications')),
    sa.UniqueConstraint('job_id', 'event', 'channel', 'recipient',
                        name='uq_selfservice_notifications_once')
    )
    op.create_index('ix_selfservice_notifications_pending', 'selfservice_notifications',
                    ['status'], unique=False, postgresql_where="status = 'pending'")
    op.create_table('selfservice_drift_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=10), nullable=False),
    sa.Column('scope', sa.String(length=120), nullable=False),
    sa.Column('subject', sa.String(length=300), nullable=False),
    sa.Column('summary', sa.String(length=500), nullable=False),
    sa.Column('details', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('state', sa.String(length=12), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=True),
    sa.Column('environment_id', sa.Integer(), nullable=True),
    sa.Column('first_detected_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_detected_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('state_changed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('state_changed_by_id', sa.Integer(), nullable=True),
    sa.Column('remediation_job_id', sa.UUID(), nullable=True),
    sa.CheckConstraint("source IN ('terraform','ansible')",
                       name=op.f('ck_selfservice_drift_items_source')),
    sa.CheckConstraint("state IN ('new','accepted','remediating','reverted','resolved')",
                       name=op.f('ck_selfservice_drift_items_state')),
    sa.ForeignKeyConstraint(['environment_id'], ['selfservice_environments.id'],
                            name=op.f('fk_selfservice_drift_items_environment_id_selfservice_environments')),
    sa.ForeignKeyConstraint(['remediation_job_id'], ['selfservice_jobs.id'],
                            name=op.f('fk_selfservice_drift_items_remediation_job_id_selfservice_jobs')),
    sa.ForeignKeyConstraint(['state_changed_by_id'], ['users.id'],
                            name=op.f('fk_selfservice_drift_items_state_changed_by_id_users')),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'],
                            name=op.f('fk_selfservice_drift_items_team_id_teams')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_selfservice_drift_items')),
    sa.UniqueConstraint('source', 'scope', 'subject', name='uq_selfservice_drift_items_subject')
    )
    op.create_index(op.f('ix_selfservice_drift_items_state'), 'selfservice_drift_items',
                    ['state'], unique=False)
    op.create_table('selfservice_drift_scans',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=10), nullable=False),
    sa.Column('scope', sa.String(length=120), nullable=False),
    sa.Column('scanned_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('outcome', sa.String(length=10), nullable=False),
    sa.Column('items', sa.Integer(), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.CheckConstraint("outcome IN ('clean','drift','failed','skipped')",
                       name=op.f('ck_selfservice_drift_scans_outcome')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_selfservice_drift_scans')),
    sa.UniqueConstraint('source', 'scope', name='uq_selfservice_drift_scans_scope')
    )


def downgrade() -> None:
    op.drop_table('selfservice_drift_scans')
    op.drop_index(op.f('ix_selfservice_drift_items_state'), table_name='selfservice_drift_items')
    op.drop_table('selfservice_drift_items')
    op.drop_index('ix_selfservice_notifications_pending', table_name='selfservice_notifications')
    op.drop_table('selfservice_notifications')
    op.drop_index(op.f('ix_selfservice_job_decisions_job_id'),
                  table_name='selfservice_job_decisions')
    op.drop_table('selfservice_job_decisions')
