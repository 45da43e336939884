"""oncall: chat platforms and incident channels

Revision ID: 1002_oncall_chat
Revises: 1001_oncall_notification_rules
Create Date: 2026-12-07
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401
from sqlalchemy.dialects import postgresql

revision = '1002_oncall_chat'
down_revision = '1001_oncall_notification_rules'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('oncall_chat_targets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('platform', sa.String(length=20), nullable=False),
    sa.Column('target', sa.String(length=500), nullable=False),
    sa.Column('incident_channels', sa.Boolean(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.String(length=254), nullable=True),
    sa.CheckConstraint("platform IN ('slack', 'mattermost', 'teams', 'discord')",
                       name=op.f('ck_oncall_chat_targets_platform')),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'],
                            name=op.f('fk_oncall_chat_targets_team_id_teams'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_oncall_chat_targets')),
    sa.UniqueConstraint('team_id', name=op.f('uq_oncall_chat_targets_team_id'))
    )
    op.create_table('oncall_chat_messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=True),
    sa.Column('platform', sa.String(length=20), nullable=False),
    sa.Column('target', sa.String(length=500), nullable=False),
    sa.Column('purpose', sa.String(length=12), nullable=False),
    sa.Column('page_id', sa.Integer(), nullable=True),
    sa.Column('incident_id', sa.Integer(), nullable=True),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('remote_id', sa.String(length=200), nullable=True),
    sa.Column('remote_channel', sa.String(length=200), nullable=True),
    sa.Column('link', sa.String(length=500), nullable=True),
    sa.Column('payload', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.CheckConstraint("status IN ('pending', 'sent', 'failed')",
                       name=op.f('ck_oncall_chat_messages_status')),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'],
                            name=op.f('fk_oncall_chat_messages_team_id_teams'),
                            ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['page_id'], ['oncall_pages.id'],
                            name=op.f('fk_oncall_chat_messages_page_id_oncall_pages'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['parent_id'], ['oncall_chat_messages.id'],
                            name=op.f('fk_oncall_chat_messages_parent_id_oncall_chat_messages'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_oncall_chat_messages'))
    )
    op.create_index('ix_oncall_chat_messages_due', 'oncall_chat_messages',
                    ['status', 'next_attempt_at'], unique=False)
    op.create_index(op.f('ix_oncall_chat_messages_page_id'), 'oncall_chat_messages',
                    ['page_id'], unique=False)
    op.create_index(op.f('ix_oncall_chat_messages_incident_id'), 'oncall_chat_messages',
                    ['incident_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_oncall_chat_messages_incident_id'), table_name='oncall_chat_messages')
    op.drop_index(op.f('ix_oncall_chat_messages_page_id'), table_name='oncall_chat_messages')
    op.drop_index('ix_oncall_chat_messages_due', table_name='oncall_chat_messages')
    op.drop_table('oncall_chat_messages')
    op.drop_table('oncall_chat_targets')
