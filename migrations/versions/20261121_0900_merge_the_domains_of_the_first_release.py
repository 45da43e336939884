"""merge the domains of the first release

Revision ID: 0900
Revises: 0100_slo, 0200_oncall, 0300_incidents, 0400_selfservice, 0600_catalog, 0700_tenants
Create Date: 2026-11-21 07:51:38.907450
"""
from alembic import op
import sqlalchemy as sa


revision = '0900'
down_revision = ('0100_slo', '0200_oncall', '0300_incidents', '0400_selfservice', '0600_catalog', '0700_tenants')
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
