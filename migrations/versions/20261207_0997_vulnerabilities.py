"""catalog: image scan reports uploaded by CI and their findings

Revision ID: 0997_vulnerabilities
Revises: 0993_incidents_suspects
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0997_vulnerabilities'
down_revision = '0993_incidents_suspects'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'vulnerability_reports',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('service_id', sa.Integer(),
                  sa.ForeignKey('services.id', ondelete='CASCADE'), nullable=False),
        sa.Column('repository', sa.String(255), nullable=False),
        sa.Column('image_ref', sa.String(128), nullable=False),
        sa.Column('digest', sa.String(100), nullable=True),
        sa.Column('artifact_name', sa.String(400), nullable=False),
        sa.Column('scanned_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('uploaded_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('uploaded_by_email', sa.String(254), nullable=False),
        sa.Column('counts', postgresql.JSONB(), nullable=False),
        sa.UniqueConstraint('service_id', 'image_ref', name='uq_vulnerability_reports_image'),
    )
    op.create_table(
        'vulnerability_findings',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('report_id', sa.Integer(),
                  sa.ForeignKey('vulnerability_reports.id', ondelete='CASCADE'), nullable=False),
        sa.Column('vulnerability_id', sa.String(80), nullable=False),
        sa.Column('severity', sa.String(10), nullable=False),
        sa.Column('severity_rank', sa.Integer(), nullable=False),
        sa.Column('pkg_name', sa.String(255), nullable=False),
        sa.Column('installed_version', sa.String(255), nullable=False),
        sa.Column('fixed_version', sa.String(255), nullable=True),
        sa.Column('title', sa.Text(), nullable=False),
        sa.Column('primary_url', sa.String(500), nullable=True),
        sa.Column('target', sa.String(500), nullable=False),
        sa.Column('target_class', sa.String(40), nullable=True),
        sa.Column('target_type', sa.String(40), nullable=True),
    )
    op.create_index('ix_vulnerability_findings_report_id', 'vulnerability_findings',
                    ['report_id'])


def downgrade() -> None:
    op.drop_index('ix_vulnerability_findings_report_id', table_name='vulnerability_findings')
    op.drop_table('vulnerability_findings')
    op.drop_table('vulnerability_reports')
