"""catalog: Backstage entities kept whole (every kind) and their relations by reference

Revision ID: 0940_catalog_entities
Revises: 0930_auth_session_version
Create Date: 2026-12-07
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0940_catalog_entities'
down_revision = '0930_auth_session_version'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'catalog_entities',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=63), nullable=False),
        sa.Column('namespace', sa.String(length=63), nullable=False),
        sa.Column('name', sa.String(length=63), nullable=False),
        sa.Column('document', postgresql.JSON(astext_type=sa.Text()), nullable=False),
        sa.Column('service_id', sa.Integer(), nullable=True),
        sa.Column('team_id', sa.Integer(), nullable=True),
        sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'),
                  nullable=False),
        sa.ForeignKeyConstraint(['service_id'], ['services.id'],
                                name=op.f('fk_catalog_entities_service_id_services'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['team_id'], ['teams.id'],
                                name=op.f('fk_catalog_entities_team_id_teams'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_catalog_entities')),
        sa.UniqueConstraint('kind', 'namespace', 'name', name='uq_catalog_entities_ref'),
        sa.UniqueConstraint('service_id', name=op.f('uq_catalog_entities_service_id')),
        sa.UniqueConstraint('team_id', name=op.f('uq_catalog_entities_team_id')),
    )
    op.create_table(
        'catalog_entity_relations',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('source_id', sa.Integer(), nullable=False),
        sa.Column('type', sa.String(length=40), nullable=False),
        sa.Column('target_ref', sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(['source_id'], ['catalog_entities.id'],
                                name=op.f('fk_catalog_entity_relations_source_id_catalog_entities'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_catalog_entity_relations')),
    )
    op.create_index(op.f('ix_catalog_entity_relations_source_id'), 'catalog_entity_relations',
                    ['source_id'])
    op.create_index(op.f('ix_catalog_entity_relations_target_ref'), 'catalog_entity_relations',
                    ['target_ref'])


def downgrade() -> None:
    op.drop_table('catalog_entity_relations')
    op.drop_table('catalog_entities')
