"""oncall: schedules, layers, overrides, hand-off notes, escalation policies, pages,
page events, notifications, received alerts, calendar feed tokens

Revision ID: 0200_oncall
Revises: 0001
Create Date: 2026-11-21
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = "0200_oncall"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('oncall_alerts',
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('previous_status', sa.String(length=10), nullable=True),
    sa.Column('labels', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('annotations', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('severity', sa.String(length=20), nullable=True),
    sa.Column('service', sa.String(length=63), nullable=True),
    sa.Column('received_count', sa.Integer(), nullable=False),
    sa.Column('last_received_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('fingerprint', name=op.f('pk_oncall_alerts'))
    )
    op.create_table('oncall_escalation_policies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('severity', sa.String(length=10), nullable=False),
    sa.Column('description', sa.String(length=200), nullable=False),
    sa.Column('ack_minutes', sa.Integer(), nullable=False),
    sa.Column('next_business_day', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_oncall_escalation_policies')),
    sa.UniqueConstraint('severity', name=op.f('uq_oncall_escalation_policies_severity'))
    )
    op.create_table('oncall_schedules',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=63), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=True),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('handoff_weekday', sa.Integer(), nullable=False),
    sa.Column('handoff_time', sa.Time(), nullable=False),
    sa.Column('rotation_start', sa.Date(), nullable=False),
    sa.Column('is_default', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('handoff_weekday BETWEEN 0 AND 6', name=op.f('ck_oncall_schedules_weekday')),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_oncall_schedules_team_id_teams'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_oncall_schedules')),
    sa.UniqueConstraint('slug', name=op.f('uq_oncall_schedules_slug')),
    sa.UniqueConstraint('team_id', name=op.f('uq_oncall_schedules_team_id'))
    )
    op.create_table('oncall_escalation_steps',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('policy_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('after_minutes', sa.Integer(), nullable=False),
    sa.Column('target', sa.String(length=20), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('label', sa.String(length=80), nullable=False),
    sa.CheckConstraint("target <> 'user' OR user_id IS NOT NULL", name=op.f('ck_oncall_escalation_steps_user')),
    sa.CheckConstraint("target IN ('primary', 'secondary', 'user')", name=op.f('ck_oncall_escalation_steps_target')),
    sa.ForeignKeyConstraint(['policy_id'], ['oncall_escalation_policies.id'], name=op.f('fk_oncall_escalation_steps_policy_id_oncall_escalation_policies'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_oncall_escalation_steps_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_oncall_escalation_steps')),
    sa.UniqueConstraint('policy_id', 'position', name='uq_oncall_escalation_steps_slot')
    )
    op.create_table('oncall_feed_tokens',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('token', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_oncall_feed_tokens_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_oncall_feed_tokens')),
    sa.UniqueConstraint('token', name=op.f('uq_oncall_feed_tokens_token'))
    )
    op.create_table('oncall_handoff_notes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('schedule_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_oncall_handoff_notes_author_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['schedule_id'], ['oncall_schedules.id'], name=op.f('fk_oncall_handoff_notes_schedule_id_oncall_schedules'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_oncall_handoff_notes'))
    )
    op.create_index(op.f('ix_oncall_handoff_notes_schedule_id'), 'oncall_handoff_notes', ['schedule_id'], unique=False)
    op.create_table('oncall_layer_members',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('schedule_id', sa.Integer(), nullable=False),
    sa.Column('layer', sa.String(length=20), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.CheckConstraint("layer IN ('primary', 'secondary')", name=op.f('ck_oncall_layer_members_layer')),
    sa.ForeignKeyConstraint(['schedule_id'], ['oncall_schedules.id'], name=op.f('fk_oncall_layer_members_schedule_id_oncall_schedules'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_oncall_layer_members_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_oncall_layer_members')),
    sa.UniqueConstraint('schedule_id', 'layer', 'position', name='uq_oncall_layer_members_slot')
    )
    op.create_table('oncall_overrides',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('schedule_id', sa.Integer(), nullable=False),
    sa.Column('layer', sa.String(length=20), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reason', sa.String(length=300), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("layer IN ('primary', 'secondary')", name=op.f('ck_oncall_overrides_layer')),
    sa.CheckConstraint('ends_at > starts_at', name=op.f('ck_oncall_overrides_period')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_oncall_overrides_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['schedule_id'], ['oncall_schedules.id'], name=op.f('fk_oncall_overrides_schedule_id_oncall_schedules'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_oncall_overrides_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_oncall_overrides'))
    )
    op.create_index(op.f('ix_oncall_overrides_schedule_id'), 'oncall_overrides', ['schedule_id'], unique=False)
    op.create_table('oncall_pages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=True),
    sa.Column('schedule_id', sa.Integer(), nullable=True),
    sa.Column('severity', sa.String(length=10), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('step', sa.Integer(), nullable=False),
    sa.Column('assignee_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('acked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('acked_by_id', sa.Integer(), nullable=True),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['acked_by_id'], ['users.id'], name=op.f('fk_oncall_pages_acked_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['assignee_id'], ['users.id'], name=op.f('fk_oncall_pages_assignee_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['schedule_id'], ['oncall_schedules.id'], name=op.f('fk_oncall_pages_schedule_id_oncall_schedules'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_oncall_pages'))
    )
    op.create_index(op.f('ix_oncall_pages_incident_id'), 'oncall_pages', ['incident_id'], unique=False)
    op.create_index('ix_oncall_pages_status_due', 'oncall_pages', ['status', 'due_at'], unique=False)
    op.create_table('oncall_notifications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('page_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('channel', sa.String(length=12), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('payload', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.CheckConstraint("channel IN ('webhook', 'email')", name=op.f('ck_oncall_notifications_channel')),
    sa.ForeignKeyConstraint(['page_id'], ['oncall_pages.id'], name=op.f('fk_oncall_notifications_page_id_oncall_pages'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_oncall_notifications_user_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_oncall_notifications'))
    )
    op.create_index('ix_oncall_notifications_due', 'oncall_notifications', ['status', 'next_attempt_at'], unique=False)
    op.create_index(op.f('ix_oncall_notifications_page_id'), 'oncall_notifications', ['page_id'], unique=False)
    op.create_table('oncall_page_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('page_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('summary', sa.String(length=300), nullable=False),
    sa.ForeignKeyConstraint(['page_id'], ['oncall_pages.id'], name=op.f('fk_oncall_page_events_page_id_oncall_pages'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_oncall_page_events_user_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_oncall_page_events'))
    )
    op.create_index(op.f('ix_oncall_page_events_page_id'), 'oncall_page_events', ['page_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_oncall_page_events_page_id'), table_name='oncall_page_events')
    op.drop_table('oncall_page_events')
    op.drop_index(op.f('ix_oncall_notifications_page_id'), table_name='oncall_notifications')
    op.drop_index('ix_oncall_notifications_due', table_name='oncall_notifications')
    op.drop_table('oncall_notifications')
    op.drop_index('ix_oncall_pages_status_due', table_name='oncall_pages')
    op.drop_index(op.f('ix_oncall_pages_incident_id'), table_name='oncall_pages')
    op.drop_table('oncall_pages')
    op.drop_index(op.f('ix_oncall_overrides_schedule_id'), table_name='oncall_overrides')
    op.drop_table('oncall_overrides')
    op.drop_table('oncall_layer_members')
    op.drop_index(op.f('ix_oncall_handoff_notes_schedule_id'), table_name='oncall_handoff_notes')
    op.drop_table('oncall_handoff_notes')
    op.drop_table('oncall_feed_tokens')
    op.drop_table('oncall_escalation_steps')
    op.drop_table('oncall_schedules')
    op.drop_table('oncall_escalation_policies')
    op.drop_table('oncall_alerts')
