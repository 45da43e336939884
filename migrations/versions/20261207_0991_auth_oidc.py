"""auth: single sign-on identity (issuer, subject, groups), break-glass accounts, team memberships

Revision ID: 0991_auth_oidc
Revises: 0990_selfservice_review
Create Date: 2026-12-07
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0991_auth_oidc'
down_revision = '0990_selfservice_review'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('users', sa.Column('oidc_issuer', sa.String(length=255), nullable=True))
    op.add_column('users', sa.Column('oidc_subject', sa.String(length=255), nullable=True))
    op.add_column('users', sa.Column('sso_groups', postgresql.ARRAY(sa.String(length=200)),
                                     nullable=True))
    op.add_column('users', sa.Column('break_glass', sa.Boolean(), server_default='false',
                                     nullable=False))
    op.create_index('uq_users_oidc_identity', 'users', ['oidc_issuer', 'oidc_subject'],
                    unique=True)
    op.create_table('user_team_memberships',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('team_slug', sa.String(length=63), nullable=False),
    sa.Column('source', sa.String(length=20), server_default='oidc', nullable=False),
    sa.Column('since', sa.DateTime(timezone=True), server_default=sa.text('now()'),
              nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'],
                            name=op.f('fk_user_team_memberships_user_id_users'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'team_slug', name=op.f('pk_user_team_memberships'))
    )
    op.create_index(op.f('ix_user_team_memberships_team_slug'), 'user_team_memberships',
                    ['team_slug'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_user_team_memberships_team_slug'),
                  table_name='user_team_memberships')
    op.drop_table('user_team_memberships')
    op.drop_index('uq_users_oidc_identity', table_name='users')
    op.drop_column('users', 'break_glass')
    op.drop_column('users', 'sso_groups')
    op.drop_column('users', 'oidc_subject')
    op.drop_column('users', 'oidc_issuer')
