"""oncall: escalation step kinds

Revision ID: 1000_oncall_escalation_steps
Revises: 0999_oncall_rotations
Create Date: 2026-12-07

Steps gain a kind (the existing rows become `page` steps and keep working unchanged), named
chains own steps besides the severity policies, routes send matching alerts to a chain,
and pages remember their chain, pass and timing.
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '1000_oncall_escalation_steps'
down_revision = '0999_oncall_rotations'
branch_labels = None
depends_on = None

STEPS = 'oncall_escalation_steps'
TARGET_CHECK = 'ck_oncall_escalation_steps_target'  # op.f() only inside upgrade/downgrade


def upgrade() -> None:
    op.create_table(
        'oncall_escalation_chains',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(120), nullable=False),
        sa.Column('description', sa.String(200), nullable=False),
        sa.Column('external_id', sa.String(200), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'),
                  nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_oncall_escalation_chains')),
        sa.UniqueConstraint('name', name=op.f('uq_oncall_escalation_chains_name')),
        sa.UniqueConstraint('external_id', name=op.f('uq_oncall_escalation_chains_external_id')),
    )
    op.create_table(
        'oncall_escalation_routes',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(120), nullable=False),
        sa.Column('matcher', sa.String(1000), nullable=False),
        sa.Column('chain_id', sa.Integer(), nullable=False),
        sa.Column('integration', sa.String(120), nullable=False),
        sa.Column('external_id', sa.String(200), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'),
                  nullable=False),
        sa.ForeignKeyConstraint(
            ['chain_id'], ['oncall_escalation_chains.id'], ondelete='CASCADE',
            name=op.f('fk_oncall_escalation_routes_chain_id_oncall_escalation_chains')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_oncall_escalation_routes')),
        sa.UniqueConstraint('position', name=op.f('uq_oncall_escalation_routes_position')),
        sa.UniqueConstraint('external_id', name=op.f('uq_oncall_escalation_routes_external_id')),
    )
    op.create_index(op.f('ix_oncall_escalation_routes_chain_id'), 'oncall_escalation_routes',
                    ['chain_id'])

    op.alter_column(STEPS, 'policy_id', existing_type=sa.Integer(), nullable=True)
    op.alter_column(STEPS, 'target', existing_type=sa.String(20), nullable=True)
    op.add_column(STEPS, sa.Column('chain_id', sa.Integer(), nullable=True))
    op.add_column(STEPS, sa.Column('kind', sa.String(20), server_default='page', nullable=False))
    op.add_column(STEPS, sa.Column('important', sa.Boolean(), server_default=sa.false(),
                                   nullable=False))
    op.add_column(STEPS, sa.Column('minutes', sa.Integer(), server_default='0', nullable=False))
    op.add_column(STEPS, sa.Column('count', sa.Integer(), server_default='0', nullable=False))
    op.add_column(STEPS, sa.Column('team_id', sa.Integer(), nullable=True))
    op.add_column(STEPS, sa.Column('schedule_id', sa.Integer(), nullable=True))
    op.add_column(STEPS, sa.Column('webhook_url', sa.String(500), nullable=True))
    op.create_foreign_key(op.f('fk_oncall_escalation_steps_chain_id_oncall_escalation_chains'),
                          STEPS, 'oncall_escalation_chains', ['chain_id'], ['id'],
                          ondelete='CASCADE')
    op.create_foreign_key(op.f('fk_oncall_escalation_steps_team_id_teams'), STEPS, 'teams',
                          ['team_id'], ['id'], ondelete='SET NULL')
    op.create_foreign_key(op.f('fk_oncall_escalation_steps_schedule_id_oncall_schedules'),
                          STEPS, 'oncall_schedules', ['schedule_id'], ['id'],
                          ondelete='SET NULL')
    op.create_index(op.f('ix_oncall_escalation_steps_chain_id'), STEPS, ['chain_id'])
    op.create_unique_constraint('uq_oncall_escalation_steps_chain_slot', STEPS,
                                ['chain_id', 'position'])
    op.drop_constraint(op.f(TARGET_CHECK), STEPS, type_='check')
    op.create_check_constraint(op.f(TARGET_CHECK), STEPS,
                               "kind <> 'page' OR target IN ('primary', 'secondary', 'user')")
    op.create_check_constraint(op.f('ck_oncall_escalation_steps_owner'), STEPS,
                               '(policy_id IS NULL) <> (chain_id IS NULL)')
    op.create_check_constraint(op.f('ck_oncall_escalation_steps_kind'), STEPS,
                               "kind IN ('page', 'wait', 'notify_users', 'notify_group', "
                               "'notify_schedule', 'repeat', 'notify_if_count', 'webhook')")
    op.create_check_constraint(op.f('ck_oncall_escalation_steps_minutes'), STEPS,
                               'minutes BETWEEN 0 AND 10080')
    op.create_check_constraint(op.f('ck_oncall_escalation_steps_count'), STEPS,
                               'count BETWEEN 0 AND 1000')
    op.create_check_constraint(op.f('ck_oncall_escalation_steps_webhook'), STEPS,
                               "kind <> 'webhook' OR webhook_url IS NOT NULL")

    op.create_table(
        'oncall_escalation_step_users',
        sa.Column('step_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ['step_id'], [f'{STEPS}.id'], ondelete='CASCADE',
            name=op.f('fk_oncall_escalation_step_users_step_id_oncall_escalation_steps')),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE',
                                name=op.f('fk_oncall_escalation_step_users_user_id_users')),
        sa.PrimaryKeyConstraint('step_id', 'user_id',
                                name=op.f('pk_oncall_escalation_step_users')),
    )
    op.create_index(op.f('ix_oncall_escalation_step_users_user_id'),
                    'oncall_escalation_step_users', ['user_id'])

    op.add_column('oncall_pages', sa.Column('chain_id', sa.Integer(), nullable=True))
    op.add_column('oncall_pages', sa.Column('route_id', sa.Integer(), nullable=True))
    op.add_column('oncall_pages', sa.Column('cycle', sa.Integer(), server_default='0',
                                            nullable=False))
    op.add_column('oncall_pages', sa.Column('step_at', sa.DateTime(timezone=True)))
    op.add_column('oncall_pages', sa.Column('cycle_at', sa.DateTime(timezone=True)))
    op.add_column('oncall_pages', sa.Column('held_since', sa.DateTime(timezone=True)))
    op.add_column('oncall_pages', sa.Column('alert_labels', postgresql.JSONB(),
                                            server_default='{}', nullable=False))
    op.create_foreign_key(op.f('fk_oncall_pages_chain_id_oncall_escalation_chains'),
                          'oncall_pages', 'oncall_escalation_chains', ['chain_id'], ['id'],
                          ondelete='SET NULL')
    op.create_foreign_key(op.f('fk_oncall_pages_route_id_oncall_escalation_routes'),
                          'oncall_pages', 'oncall_escalation_routes', ['route_id'], ['id'],
                          ondelete='SET NULL')

    op.create_table(
        'oncall_step_webhooks',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('page_id', sa.Integer(), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('url', sa.String(500), nullable=False),
        sa.Column('payload', postgresql.JSONB(), nullable=False),
        sa.Column('status', sa.String(12), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('response_status', sa.Integer(), nullable=True),
        sa.Column('last_error', sa.Text(), nullable=True),
        sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['page_id'], ['oncall_pages.id'], ondelete='CASCADE',
                                name=op.f('fk_oncall_step_webhooks_page_id_oncall_pages')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_oncall_step_webhooks')),
    )
    op.create_index(op.f('ix_oncall_step_webhooks_page_id'), 'oncall_step_webhooks',
                    ['page_id'])
    op.create_index('ix_oncall_step_webhooks_due', 'oncall_step_webhooks',
                    ['status', 'next_attempt_at'])


def downgrade() -> None:
    op.drop_table('oncall_step_webhooks')
    op.drop_constraint(op.f('fk_oncall_pages_route_id_oncall_escalation_routes'),
                       'oncall_pages', type_='foreignkey')
    op.drop_constraint(op.f('fk_oncall_pages_chain_id_oncall_escalation_chains'),
                       'oncall_pages', type_='foreignkey')
    for column in ('alert_labels', 'held_since', 'cycle_at', 'step_at', 'cycle', 'route_id',
                   'chain_id'):
        op.drop_column('oncall_pages', column)
    op.drop_table('oncall_escalation_step_users')
    # Chain steps and the new kinds cannot be expressed before this revision: they go with
    # the feature; the severity policies' `page` steps stay as they were.
    op.execute(f"DELETE FROM {STEPS} WHERE chain_id IS NOT NULL OR kind <> 'page'")
    for name in ('webhook', 'count', 'minutes', 'kind', 'owner'):
        op.drop_constraint(op.f(f'ck_oncall_escalation_steps_{name}'), STEPS, type_='check')
    op.drop_constraint(op.f(TARGET_CHECK), STEPS, type_='check')
    op.create_check_constraint(op.f(TARGET_CHECK), STEPS, "target IN ('primary', 'secondary', 'user')")
    op.drop_constraint('uq_oncall_escalation_steps_chain_slot', STEPS, type_='unique')
    op.drop_index(op.f('ix_oncall_escalation_steps_chain_id'), table_name=STEPS)
    for fk in ('fk_oncall_escalation_steps_schedule_id_oncall_schedules',
               'fk_oncall_escalation_steps_team_id_teams',
               'fk_oncall_escalation_steps_chain_id_oncall_escalation_chains'):
        op.drop_constraint(op.f(fk), STEPS, type_='foreignkey')
    for column in ('webhook_url', 'schedule_id', 'team_id', 'count', 'minutes', 'important',
                   'kind', 'chain_id'):
        op.drop_column(STEPS, column)
    op.alter_column(STEPS, 'target', existing_type=sa.String(20), nullable=False)
    op.alter_column(STEPS, 'policy_id', existing_type=sa.Integer(), nullable=False)
    op.drop_index(op.f('ix_oncall_escalation_routes_chain_id'),
                  table_name='oncall_escalation_routes')
    op.drop_table('oncall_escalation_routes')
    op.drop_table('oncall_escalation_chains')
