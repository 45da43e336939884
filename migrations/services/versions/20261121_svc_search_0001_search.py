"""search schema: the products of every tenant (the reindex source and the PostgreSQL full-text index) and the inbox of the search service.

Revision ID: svc_search_0001
Revises:
Create Date: 2026-11-21
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = 'svc_search_0001'
down_revision = None
branch_labels = ('search',)
depends_on = None


def upgrade() -> None:
    op.execute("CREATE SCHEMA IF NOT EXISTS search")
    # Trusted extension (PostgreSQL >= 13): tenant id and tsvector in one GIN index.
    op.execute("CREATE EXTENSION IF NOT EXISTS btree_gin")
    op.create_table('processed_messages',
    sa.Column('message_id', sa.String(length=120), nullable=False),
    sa.Column('processed_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('message_id'),
    schema='search'
    )
    op.create_table('tenants',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('slug', sa.String(length=63), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('registered_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('slug'),
    schema='search'
    )
    op.create_table('products',
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('sku', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('description', sa.Text(), server_default='', nullable=False),
    sa.Column('category', sa.String(length=100), server_default='', nullable=False),
    sa.Column('price_cents', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('deleted', sa.Boolean(), server_default='false', nullable=False),
    sa.Column('version', sa.BigInteger(), nullable=False),
    sa.Column('indexed_version', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('search_vector', postgresql.TSVECTOR(), sa.Computed("setweight(to_tsvector('english'::regconfig, coalesce(name, '')), 'A') || setweight(to_tsvector('english'::regconfig, coalesce(category, '')), 'B') || setweight(to_tsvector('english'::regconfig, coalesce(description, '')), 'C')", persisted=True), nullable=True),
    sa.ForeignKeyConstraint(['tenant_id'], ['search.tenants.id'], ),
    sa.PrimaryKeyConstraint('tenant_id', 'sku'),
    schema='search'
    )
    op.create_index('ix_products_tenant_search', 'products', ['tenant_id', 'search_vector'], unique=False, schema='search', postgresql_using='gin')
    op.create_index('ix_products_unindexed', 'products', ['tenant_id', 'sku'], unique=False, schema='search', postgresql_where='indexed_version < version')


def downgrade() -> None:
    op.execute("DROP SCHEMA search CASCADE")
