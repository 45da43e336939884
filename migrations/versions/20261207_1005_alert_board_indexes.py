"""oncall: the alert board's grouping kept on each alert, and indexes for the board

The board groups the firing alerts by service and severity and shows the first alerts of
each group by name. Reading the service and name out of the labels for every alert on
every poll cost a scan and a sort of all of them; stored generated columns and a partial
index on the firing ones let the database count the groups from the index and read each
group's first rows in order. A second index answers the incidents page's "firing alerts
no incident covers, latest first" without sorting every alert.

Revision ID: 1005_alert_board_indexes
Revises: 1004_single_alert_intake
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

revision = '1005_alert_board_indexes'
down_revision = '1004_single_alert_intake'
branch_labels = None
depends_on = None

# Kept in step with portal.oncall.models.ReceivedAlert (the migration must not import it).
GROUP_SERVICE = ("left(coalesce(nullif(labels->>'service', ''), nullif(labels->>'job', ''), "
                 "'unknown'), 200)")
GROUP_SEVERITY = "coalesce(nullif(severity, ''), 'none')"
ALERT_NAME = "left(coalesce(labels->>'alertname', ''), 200)"


def upgrade() -> None:
    op.add_column('oncall_alerts', sa.Column(
        'group_service', sa.Text(), sa.Computed(GROUP_SERVICE, persisted=True), nullable=True))
    op.add_column('oncall_alerts', sa.Column(
        'group_severity', sa.Text(), sa.Computed(GROUP_SEVERITY, persisted=True),
        nullable=True))
    op.add_column('oncall_alerts', sa.Column(
        'alert_name', sa.Text(), sa.Computed(ALERT_NAME, persisted=True), nullable=True))
    op.create_index('ix_oncall_alerts_board', 'oncall_alerts',
                    ['group_service', 'group_severity', 'alert_name', 'fingerprint'],
                    unique=False, postgresql_where=sa.text("status = 'firing'"))
    op.create_index('ix_oncall_alerts_waiting', 'oncall_alerts',
                    ['status', 'last_received_at'], unique=False,
                    postgresql_where=sa.text('incident_id IS NULL'))


def downgrade() -> None:
    op.drop_index('ix_oncall_alerts_waiting', table_name='oncall_alerts')
    op.drop_index('ix_oncall_alerts_board', table_name='oncall_alerts')
    op.drop_column('oncall_alerts', 'alert_name')
    op.drop_column('oncall_alerts', 'group_severity')
    op.drop_column('oncall_alerts', 'group_service')
