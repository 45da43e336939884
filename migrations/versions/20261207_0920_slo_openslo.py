"""slo: OpenSLO v1 fields of a spec (display name, budgeting method, time slices,
calendar-aligned windows, bad/total numerator, alert policies, kept metadata)

Revision ID: 0920_slo_openslo
Revises: 0910_tenants_api_requests
Create Date: 2026-12-07
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0920_slo_openslo'
down_revision = '0910_tenants_api_requests'
branch_labels = None
depends_on = None


def _columns() -> tuple[sa.Column, ...]:
    # Fresh Column objects each call: Alembic binds a column to the table it adds it to.
    return (
        sa.Column('display_name', sa.String(length=255), server_default='', nullable=False),
        sa.Column('ratio_numerator', sa.String(length=4), server_default='good', nullable=False),
        sa.Column('budgeting_method', sa.String(length=16), server_default='Occurrences',
                  nullable=False),
        sa.Column('time_slice_target', sa.Numeric(precision=9, scale=8), nullable=True),
        sa.Column('time_slice_window', sa.String(length=16), nullable=True),
        sa.Column('window_duration', sa.String(length=16), nullable=True),
        sa.Column('calendar_start', sa.DateTime(timezone=False), nullable=True),
        sa.Column('calendar_time_zone', sa.String(length=64), nullable=True),
        sa.Column('alert_policies', postgresql.JSONB(astext_type=sa.Text()), server_default='[]',
                  nullable=False),
        sa.Column('openslo_metadata', postgresql.JSONB(astext_type=sa.Text()), server_default='{}',
                  nullable=False),
    )


CHECKS = {
    'budgeting_method': "budgeting_method IN ('Occurrences', 'Timeslices', 'RatioTimeslices')",
    'ratio_numerator': "ratio_numerator IN ('good', 'bad')",
    'calendar_start_and_zone': "(calendar_start IS NULL) = (calendar_time_zone IS NULL)",
}


def upgrade() -> None:
    for column in _columns():
        op.add_column('slo_specs', column)
    for name, condition in CHECKS.items():
        op.create_check_constraint(op.f(f'ck_slo_specs_{name}'), 'slo_specs', condition)


def downgrade() -> None:
    for name in CHECKS:
        op.drop_constraint(op.f(f'ck_slo_specs_{name}'), 'slo_specs', type_='check')
    for column in reversed(_columns()):
        op.drop_column('slo_specs', column.name)
