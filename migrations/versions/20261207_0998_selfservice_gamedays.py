"""selfservice: game days (chaos experiments in staging committed through GitOps)

Revision ID: 0998_selfservice_gamedays
Revises: 0997_vulnerabilities
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

revision = '0998_selfservice_gamedays'
down_revision = '0997_vulnerabilities'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'selfservice_gamedays',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('name', sa.String(63), nullable=False),
        sa.Column('service_id', sa.Integer(), sa.ForeignKey('services.id'), nullable=False),
        sa.Column('target_id', sa.Integer(), sa.ForeignKey('services.id'), nullable=True),
        sa.Column('experiment', sa.String(20), nullable=False),
        sa.Column('mode', sa.String(10), nullable=False),
        sa.Column('latency_ms', sa.Integer(), nullable=True),
        sa.Column('jitter_ms', sa.Integer(), nullable=True),
        sa.Column('duration_minutes', sa.Integer(), nullable=False),
        sa.Column('window_start', sa.DateTime(timezone=True), nullable=False),
        sa.Column('window_end', sa.DateTime(timezone=True), nullable=False),
        sa.Column('status', sa.String(10), nullable=False),
        sa.Column('manifest_path', sa.String(200), nullable=False),
        sa.Column('manifest', sa.Text(), nullable=False),
        sa.Column('requested_by_id', sa.Integer(), sa.ForeignKey('users.id'), nullable=False),
        sa.Column('approved_by_id', sa.Integer(), sa.ForeignKey('users.id'), nullable=True),
        sa.Column('approved_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('decision_comment', sa.Text(), nullable=True),
        sa.Column('commit_sha', sa.String(40), nullable=True),
        sa.Column('committed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('removal_sha', sa.String(40), nullable=True),
        sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('ended_by_id', sa.Integer(), sa.ForeignKey('users.id'), nullable=True),
        sa.Column('outcome', sa.String(10), nullable=True),
        sa.Column('outcome_notes', sa.Text(), nullable=True),
        sa.Column('outcome_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(),
                  nullable=False),
        sa.CheckConstraint("status IN ('requested','scheduled','running','ended','rejected')",
                           name='ck_selfservice_gamedays_status'),
        sa.CheckConstraint("experiment IN ('pod-kill','network-delay')",
                           name='ck_selfservice_gamedays_experiment'),
        sa.CheckConstraint("outcome IS NULL OR outcome IN ('held','degraded')",
                           name='ck_selfservice_gamedays_outcome'),
        sa.CheckConstraint('approved_by_id IS NULL OR approved_by_id <> requested_by_id',
                           name='ck_selfservice_gamedays_approver_is_not_requester'),
        sa.UniqueConstraint('name', name='uq_selfservice_gamedays_name'),
    )
    op.create_index('ix_selfservice_gamedays_service_id', 'selfservice_gamedays', ['service_id'])
    op.create_index('ix_selfservice_gamedays_window_start', 'selfservice_gamedays',
                    ['window_start'])
    op.create_index('ix_selfservice_gamedays_window_end', 'selfservice_gamedays', ['window_end'])
    op.create_index('ix_selfservice_gamedays_status', 'selfservice_gamedays', ['status'])


def downgrade() -> None:
    op.drop_table('selfservice_gamedays')
