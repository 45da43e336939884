"""auth: scoped API tokens, SCIM-provisioned users and groups; oncall: roster notices

Revision ID: 0992_auth_tokens_scim
Revises: 0991_auth_oidc
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0992_auth_tokens_scim'
down_revision = '0991_auth_oidc'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('api_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('prefix', sa.String(length=16), nullable=False),
    sa.Column('secret_hash', sa.String(length=64), nullable=False),
    sa.Column('scopes', postgresql.ARRAY(sa.String(length=20)), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=True),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_by', sa.String(length=254), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'),
              nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'],
                            name=op.f('fk_api_tokens_tenant_id_tenants'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'],
                            name=op.f('fk_api_tokens_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_tokens')),
    sa.UniqueConstraint('secret_hash', name=op.f('uq_api_tokens_secret_hash'))
    )
    op.create_index('ix_api_tokens_user_id', 'api_tokens', ['user_id'], unique=False)

    op.create_table('scim_users',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('external_id', sa.String(length=254), nullable=True),
    sa.Column('user_name', sa.String(length=254), nullable=False),
    sa.Column('attributes', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'),
              nullable=False),
    sa.Column('modified_at', sa.DateTime(timezone=True), server_default=sa.text('now()'),
              nullable=False),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'],
                            name=op.f('fk_scim_users_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_scim_users'))
    )
    op.create_table('scim_groups',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('display_name', sa.String(length=254), nullable=False),
    sa.Column('external_id', sa.String(length=254), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'),
              nullable=False),
    sa.Column('modified_at', sa.DateTime(timezone=True), server_default=sa.text('now()'),
              nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_scim_groups')),
    sa.UniqueConstraint('display_name', name=op.f('uq_scim_groups_display_name'))
    )
    op.create_table('scim_group_members',
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('display', sa.String(length=254), nullable=True),
    sa.ForeignKeyConstraint(['group_id'], ['scim_groups.id'],
                            name=op.f('fk_scim_group_members_group_id_scim_groups'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'],
                            name=op.f('fk_scim_group_members_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('group_id', 'user_id', name=op.f('pk_scim_group_members'))
    )
    op.create_index(op.f('ix_scim_group_members_user_id'), 'scim_group_members', ['user_id'],
                    unique=False)

    op.create_table('oncall_roster_notices',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('schedule_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=True),
    sa.Column('person_email', sa.String(length=254), nullable=False),
    sa.Column('person_name', sa.String(length=120), nullable=False),
    sa.Column('shifts', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'),
              nullable=False),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('resolved_by', sa.String(length=254), nullable=True),
    sa.Column('delivery', sa.String(length=12), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('payload', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['users.id'],
                            name=op.f('fk_oncall_roster_notices_person_id_users'),
                            ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['schedule_id'], ['oncall_schedules.id'],
                            name=op.f('fk_oncall_roster_notices_schedule_id_oncall_schedules'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_oncall_roster_notices'))
    )
    op.create_index(op.f('ix_oncall_roster_notices_schedule_id'), 'oncall_roster_notices',
                    ['schedule_id'], unique=False)
    op.create_index('ix_oncall_roster_notices_delivery', 'oncall_roster_notices', ['delivery'],
                    unique=False)
    op.create_index('uq_oncall_roster_notices_open', 'oncall_roster_notices',
                    ['schedule_id', 'person_email'], unique=True,
                    postgresql_where=sa.text('resolved_at IS NULL'))


def downgrade() -> None:
    op.drop_table('oncall_roster_notices')
    op.drop_table('scim_group_members')
    op.drop_table('scim_groups')
    op.drop_table('scim_users')
    op.drop_table('api_tokens')
