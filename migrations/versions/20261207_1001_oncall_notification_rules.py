"""oncall: personal notification rules, phone numbers, SMS and voice

Revision ID: 1001_oncall_notification_rules
Revises: 1000_oncall_escalation_steps
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

revision = '1001_oncall_notification_rules'
down_revision = '1000_oncall_escalation_steps'
branch_labels = None
depends_on = None

CHANNEL_CHECK = 'ck_oncall_notifications_channel'


def upgrade() -> None:
    op.create_table(
        'oncall_notification_profiles',
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('phone', sa.String(16), nullable=True),
        sa.Column('timezone', sa.String(64), nullable=False),
        sa.Column('quiet_start', sa.Time(), nullable=True),
        sa.Column('quiet_end', sa.Time(), nullable=True),
        sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.func.now(),
                  nullable=False),
        sa.CheckConstraint('(quiet_start IS NULL) = (quiet_end IS NULL)',
                           name=op.f('ck_oncall_notification_profiles_quiet_pair')),
        sa.CheckConstraint("phone IS NULL OR phone ~ '^\\+[1-9][0-9]{6,14}$'",
                           name=op.f('ck_oncall_notification_profiles_phone_e164')),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE',
                                name=op.f('fk_oncall_notification_profiles_user_id_users')),
        sa.PrimaryKeyConstraint('user_id', name=op.f('pk_oncall_notification_profiles')),
    )
    op.create_table(
        'oncall_notification_rules',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(10), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('channel', sa.String(10), nullable=False),
        sa.Column('delay_minutes', sa.Integer(), nullable=False),
        sa.Column('repeat_count', sa.Integer(), nullable=False),
        sa.Column('repeat_interval_minutes', sa.Integer(), nullable=False),
        sa.CheckConstraint("kind IN ('default', 'important')",
                           name=op.f('ck_oncall_notification_rules_kind')),
        sa.CheckConstraint("channel IN ('email', 'sms', 'voice', 'chat')",
                           name=op.f('ck_oncall_notification_rules_channel')),
        sa.CheckConstraint('delay_minutes BETWEEN 0 AND 1440',
                           name=op.f('ck_oncall_notification_rules_delay')),
        sa.CheckConstraint('repeat_count BETWEEN 0 AND 10',
                           name=op.f('ck_oncall_notification_rules_repeats')),
        sa.CheckConstraint('repeat_interval_minutes BETWEEN 1 AND 1440',
                           name=op.f('ck_oncall_notification_rules_interval')),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE',
                                name=op.f('fk_oncall_notification_rules_user_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_oncall_notification_rules')),
        sa.UniqueConstraint('user_id', 'kind', 'position',
                            name=op.f('uq_oncall_notification_rules_slot')),
    )
    op.add_column('oncall_notifications', sa.Column('provider_ref', sa.String(120),
                                                    nullable=True))
    # Delivery reports find their notification by the provider's id.
    op.create_index(op.f('ix_oncall_notifications_provider_ref'), 'oncall_notifications',
                    ['provider_ref'])
    op.drop_constraint(op.f(CHANNEL_CHECK), 'oncall_notifications', type_='check')
    op.create_check_constraint(op.f(CHANNEL_CHECK), 'oncall_notifications',
                               "channel IN ('webhook', 'email', 'sms', 'voice')")


def downgrade() -> None:
    # SMS and voice rows cannot satisfy the old check: they go with the feature.
    op.execute("DELETE FROM oncall_notifications WHERE channel IN ('sms', 'voice')")
    op.drop_constraint(op.f(CHANNEL_CHECK), 'oncall_notifications', type_='check')
    op.create_check_constraint(op.f(CHANNEL_CHECK), 'oncall_notifications',
                               "channel IN ('webhook', 'email')")
    op.drop_index(op.f('ix_oncall_notifications_provider_ref'),
                  table_name='oncall_notifications')
    op.drop_column('oncall_notifications', 'provider_ref')
    op.drop_table('oncall_notification_rules')
    op.drop_table('oncall_notification_profiles')
